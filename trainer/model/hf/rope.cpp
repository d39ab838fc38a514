#include "trainer/model/hf/rope.h"

#include <cmath>

#include <torch/torch.h>

#include "common/error.h"

namespace distill::model::hf {
namespace {

double field(const HfConfig& config, const nlohmann::json& rope, const char* key) {
  DISTILL_CHECK(rope.contains(key) && rope.at(key).is_number(), config.path(), ": rope type \"",
                rope.at("rope_type").get<std::string>(), "\" needs the number \"", key, "\" in rope_scaling (or rope_parameters)");
  return rope.at(key).get<double>();
}

}  // namespace

Rope ropeFromConfig(const HfConfig& config, int64_t head_dim) {
  const nlohmann::json rope = config.rope();
  DISTILL_CHECK(rope.at("rope_type").is_string(), config.path(), ": rope_type must be a string");
  const std::string type = rope.at("rope_type").get<std::string>();
  const double theta = field(config, rope, "rope_theta");
  DISTILL_CHECK(head_dim % 2 == 0, config.path(), ": head_dim ", head_dim, " must be even for rotary embeddings");
  // In float64, then fp32: transformers computes theta ** (arange(0, d, 2) / d) in fp32 from int64.
  const torch::Tensor exponent = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat) / static_cast<double>(head_dim);
  torch::Tensor inv_freq = 1.0 / torch::pow(torch::tensor(theta, torch::kFloat), exponent);
  Rope out;
  if (type == "default") {
  } else if (type == "linear") {
    inv_freq = inv_freq / field(config, rope, "factor");
  } else if (type == "llama3") {
    const double factor = field(config, rope, "factor");
    const double low = field(config, rope, "low_freq_factor");
    const double high = field(config, rope, "high_freq_factor");
    const double old_context = field(config, rope, "original_max_position_embeddings");
    const double low_wavelen = old_context / low, high_wavelen = old_context / high;
    const torch::Tensor wavelen = 2 * M_PI / inv_freq;
    torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv_freq / factor, inv_freq);
    const torch::Tensor smooth = (old_context / wavelen - low) / (high - low);
    const torch::Tensor blended = (1 - smooth) * scaled / factor + smooth * scaled;
    const torch::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv_freq = torch::where(medium, blended, scaled);
  } else {
    DISTILL_FAIL(config.path(), ": rope type \"", type,
                 "\" (rope_scaling / rope_parameters) is not implemented; this importer implements default, linear, "
                 "llama3");
  }
  out.inv_freq = inv_freq.contiguous();
  return out;
}

}  // namespace distill::model::hf
