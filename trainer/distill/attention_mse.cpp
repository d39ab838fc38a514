#include "trainer/distill/attention_mse.h"

#include "common/error.h"

namespace distill::kd {

AttentionHeads attentionHeadsFromName(const std::string& name, const std::string& field) {
  if (name == "average") return AttentionHeads::kAverage;
  if (name == "mapped") return AttentionHeads::kMapped;
  DISTILL_FAIL(field, ": unknown attention_heads \"", name, "\" (accepted: average, mapped)");
}

torch::Tensor attentionMSE(const torch::Tensor& student, const torch::Tensor& teacher,
                           const torch::Tensor& attention_mask, AttentionHeads heads) {
  DISTILL_CHECK(student.dim() == 4 && teacher.dim() == 4 && student.size(0) == teacher.size(0) &&
                    student.sizes().slice(2) == teacher.sizes().slice(2) && student.size(2) == student.size(3),
                "attention_mse: student ", student.sizes(), " and teacher ", teacher.sizes(),
                " must be [batch, heads, tokens, tokens] with the same batch and tokens");
  DISTILL_CHECK(attention_mask.dim() == 2 && attention_mask.size(0) == student.size(0) &&
                    attention_mask.size(1) == student.size(2),
                "attention_mse: attention_mask ", attention_mask.sizes(), " does not match the attentions ",
                student.sizes());
  torch::Tensor s = student.to(torch::kFloat);
  torch::Tensor t = teacher.detach().to(torch::kFloat);
  if (heads == AttentionHeads::kAverage) {
    s = s.mean(/*dim=*/1, /*keepdim=*/true);
    t = t.mean(/*dim=*/1, /*keepdim=*/true);
  } else {
    DISTILL_CHECK(s.size(1) == t.size(1), "attention_mse with attention_heads: mapped needs equal head counts, "
                  "but the student has ", s.size(1), " heads and the teacher ", t.size(1),
                  "; use attention_heads: average");
  }
  const torch::Tensor m = (attention_mask != 0).to(torch::kFloat);
  const torch::Tensor pairs = (m.unsqueeze(2) * m.unsqueeze(1)).unsqueeze(1);  // [B,1,T,T]: real query and key
  const torch::Tensor squared = (s - t).pow(2) * pairs;                        // [B,H,T,T]
  const torch::Tensor count = pairs.sum({1, 2, 3}) * static_cast<double>(s.size(1));
  return squared.sum({1, 2, 3}) / count.clamp_min(1.0);
}

}  // namespace distill::kd
