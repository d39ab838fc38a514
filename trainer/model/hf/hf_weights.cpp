#include "trainer/model/hf/hf_weights.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/data/tensor_io.h"

namespace distill::model::hf {
namespace {

namespace fs = std::filesystem;

// What transformers itself leaves in some files and never loads as weights.
bool isKnownBuffer(const std::string& name) {
  for (const char* suffix : {"rotary_emb.inv_freq", ".attn.bias", ".attn.masked_bias", "embeddings.position_ids"}) {
    const std::string s(suffix);
    if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

std::string shapeText(at::IntArrayRef shape) {
  std::ostringstream out;
  out << shape;
  return out.str();
}

}  // namespace

HfWeights::HfWeights(std::string dir, c10::ScalarType dtype) : dir_(std::move(dir)), dtype_(dtype) {
  const fs::path single = fs::path(dir_) / "model.safetensors";
  const fs::path index = fs::path(dir_) / "model.safetensors.index.json";
  std::vector<std::string> paths;
  if (fs::exists(index)) {
    std::ifstream in(index);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      DISTILL_FAIL(index.string(), ": not valid JSON: ", e.what());
    }
    DISTILL_CHECK(j.contains("weight_map") && j.at("weight_map").is_object(), index.string(),
                  ": no \"weight_map\" object (tensor name -> shard file)");
    for (const auto& [name, shard] : j.at("weight_map").items()) {
      DISTILL_CHECK(shard.is_string(), index.string(), ": weight_map[\"", name, "\"] must be a file name");
      const std::string path = (fs::path(dir_) / shard.get<std::string>()).string();
      if (!files_.count(path)) {
        DISTILL_CHECK(fs::exists(path), index.string(), ": shard ", shard.get<std::string>(), " (holding ", name,
                      ") is missing from ", dir_);
        files_.emplace(path, safetensors::File::open(path));
      }
      DISTILL_CHECK(files_.at(path).has(name), path, ": tensor ", name, " is not in this shard, though ",
                    index.string(), " says it is");
      file_of_[name] = path;
    }
  } else {
    DISTILL_CHECK(fs::exists(single), dir_, ": neither model.safetensors nor model.safetensors.index.json "
                  "(only safetensors checkpoints are read; save with safe_serialization=True)");
    const std::string path = single.string();
    files_.emplace(path, safetensors::File::open(path));
    for (const auto& name : files_.at(path).names()) file_of_[name] = path;
  }
}

at::Tensor HfWeights::take(const std::string& name, at::IntArrayRef shape) {
  const auto it = file_of_.find(name);
  DISTILL_CHECK(it != file_of_.end(), dir_, ": tensor ", name, " is missing (the config.json asks for it)");
  const auto view = files_.at(it->second).get(name);
  at::Tensor t = data::toTensor(view);
  DISTILL_CHECK(t.sizes() == shape, it->second, ": tensor ", name, " has shape ", shapeText(t.sizes()),
                ", the config.json implies ", shapeText(shape));
  DISTILL_CHECK(t.is_floating_point(), it->second, ": tensor ", name, " has dtype ",
                safetensors::dtypeName(view.dtype), ", a floating-point weight was expected");
  taken_.insert(name);
  stored_.insert(safetensors::dtypeName(view.dtype));
  return t.to(dtype_).contiguous();
}

void HfWeights::checkAllTaken() const {
  std::ostringstream unused;
  int count = 0;
  for (const auto& [name, path] : file_of_) {
    if (taken_.count(name) || isKnownBuffer(name)) continue;
    if (count++ < 8) unused << (count > 1 ? ", " : "") << name;
  }
  DISTILL_CHECK(count == 0, dir_, ": ", count, " tensor(s) this importer does not use: ", unused.str(),
                count > 8 ? ", ..." : "", " (a variant of the family it does not implement?)");
}

}  // namespace distill::model::hf
