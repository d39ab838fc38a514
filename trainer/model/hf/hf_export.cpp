#include "trainer/model/hf/hf_export.h"

#include <filesystem>
#include <map>

#include <torch/torch.h>

#include "common/error.h"
#include "common/files.h"
#include "trainer/data/tensor_io.h"
#include "trainer/model/hf/families.h"

namespace distill::model::hf {
namespace {

std::string dtypeName(c10::ScalarType t) {
  switch (t) {
    case torch::kBFloat16: return "bfloat16";
    case torch::kHalf: return "float16";
    default: return "float32";
  }
}

// The neurons of block `layer` with a nonzero entry in some weight matrix: [d_ff] bool.
// Biases do not count: a neuron whose matrices are all zero adds nothing,
// whatever its bias (its output column is zero), as structured export has it.
torch::Tensor liveNeurons(std::map<std::string, torch::Tensor>& params, const std::vector<NeuronMember>& members,
                          int64_t layer) {
  torch::Tensor live;
  for (const NeuronMember& m : members) {
    const torch::Tensor& t = params.at("layer" + std::to_string(layer) + "." + m.param);
    if (t.dim() < 2) continue;
    const torch::Tensor any = t.ne(0).movedim(m.dim, 0).reshape({t.size(m.dim), -1}).any(1);
    live = live.defined() ? live.logical_or(any) : any;
  }
  return live;
}

}  // namespace

HfExportSummary writeHfCheckpoint(const torch::jit::Module& module, const std::string& out_dir) {
  DISTILL_CHECK(module.hasattr("hf_config"), "export --format hf: the student was not imported from Hugging Face "
                "(distill import-hf); only such students have a Hugging Face layout to write");
  // A Mixtral-style layout weights the experts by the router's softmax; a
  // moefied model adds its top-k experts unweighted, which no layout holds.
  DISTILL_CHECK(!module.hasattr("ffn_experts"), "export --format hf: the student's FFNs are routed experts (distill "
                "moefy: ", module.attr("ffn_experts").toInt(), " per FFN, top-", module.attr("ffn_top_k").toInt(),
                "), which its Hugging Face family's layout cannot hold; export --format torchscript (model.pt, loads "
                "in PyTorch with torch.jit.load) instead");
  nlohmann::json json = nlohmann::json::parse(module.attr("hf_config").toStringRef());
  HfConfig config(json, "the student's hf_config");
  HfExportSummary summary;
  const Family& family = familyOf(config, &summary.architecture);

  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> params;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) params[p.name] = p.value.detach();
  int64_t layers = 0;
  while (module.hasattr("layer" + std::to_string(layers))) ++layers;

  // Cut the FFN neurons pruned whole when every layer lost the same number.
  const std::vector<NeuronMember> members = family.neurons(config);
  std::vector<torch::Tensor> live;
  for (int64_t i = 0; i < layers; ++i) live.push_back(liveNeurons(params, members, i));
  summary.ffn_width_before = summary.ffn_width_after = layers > 0 ? live[0].numel() : 0;
  bool uniform = true;
  for (const auto& l : live) uniform = uniform && l.sum().item<int64_t>() == live[0].sum().item<int64_t>();
  const int64_t kept = layers > 0 ? live[0].sum().item<int64_t>() : 0;
  if (layers > 0 && kept < summary.ffn_width_before) {
    if (uniform && kept > 0) {
      for (int64_t i = 0; i < layers; ++i) {
        const torch::Tensor index = live[i].nonzero().reshape({-1});
        for (const NeuronMember& m : members) {
          auto& t = params.at("layer" + std::to_string(i) + "." + m.param);
          t = t.index_select(m.dim, index);
        }
      }
      json[family.intermediate_field] = kept;
      summary.ffn_width_after = kept;
    } else {
      summary.note = "layers kept different numbers of FFN neurons: the pruned ones stay as zeros";
    }
  }

  const c10::ScalarType dtype = params.empty() ? torch::kFloat : params.begin()->second.scalar_type();
  json["torch_dtype"] = dtypeName(dtype);
  if (json.contains("dtype")) json["dtype"] = dtypeName(dtype);
  const HfConfig written(json, "the exported config");
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const TensorMapping& m : family.tensors(written)) {
    const auto it = params.find(m.ours);
    DISTILL_CHECK(it != params.end(), "export --format hf: the student has no parameter ", m.ours, " (for ", m.theirs,
                  ")");
    torch::Tensor t = m.transposed ? it->second.t() : it->second;
    DISTILL_CHECK(t.sizes() == at::IntArrayRef(m.shape), "export --format hf: parameter ", m.ours, " has shape ",
                  t.sizes(), ", the exported config.json implies ", at::IntArrayRef(m.shape), " for ", m.theirs);
    tensors.emplace_back(m.theirs, t.contiguous());
  }
  files::makeDirs(out_dir);
  const std::filesystem::path out = out_dir;
  data::saveTensors((out / "model.safetensors").string(), tensors, {{"format", "pt"}});
  files::writeFileAtomic((out / "config.json").string(), json.dump(2) + "\n");
  return summary;
}

}  // namespace distill::model::hf
