#include "trainer/teachers/top_k_message.h"

#include <cstring>

#include "common/error.h"

namespace distill::teachers {
namespace {

std::string bytesOf(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel() * c.element_size()));
}

torch::Tensor tensorOf(const std::string& bytes, std::vector<int64_t> shape, torch::ScalarType type,
                       const std::string& field, const std::string& from) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  const auto expected = static_cast<size_t>(count) * c10::elementSize(type);
  DISTILL_CHECK(bytes.size() == expected, from, ": teacher output field ", field, " holds ", bytes.size(),
                " bytes, expected ", expected, " for ", count, " entries");
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (expected > 0) std::memcpy(t.data_ptr(), bytes.data(), expected);
  return t;
}

}  // namespace

control::TeacherOutput encodeTopK(const TopK& top, int64_t vocab) {
  control::TeacherOutput m;
  for (int64_t d : top.residual.sizes()) m.add_positions(d);
  m.set_k(static_cast<uint32_t>(top.log_probs.size(-1)));
  m.set_vocab(static_cast<uint32_t>(vocab));
  m.set_log_probs(bytesOf(top.log_probs.to(torch::kCPU, torch::kFloat)));
  m.set_indices(bytesOf(top.indices.to(torch::kCPU, torch::kInt)));
  m.set_residual(bytesOf(top.residual.to(torch::kCPU, torch::kFloat)));
  return m;
}

TopK decodeTopK(const control::TeacherOutput& m, const std::string& from) {
  DISTILL_CHECK(m.k() > 0 && m.vocab() >= m.k() && !m.positions().empty(), from, ": teacher output of step ",
                m.step(), " has k ", m.k(), ", vocabulary ", m.vocab(), " and ", m.positions_size(), " dimensions");
  std::vector<int64_t> positions(m.positions().begin(), m.positions().end());
  std::vector<int64_t> entries = positions;
  entries.push_back(m.k());
  TopK top;
  top.log_probs = tensorOf(m.log_probs(), entries, torch::kFloat, "log_probs", from);
  top.indices = tensorOf(m.indices(), entries, torch::kInt, "indices", from);
  top.residual = tensorOf(m.residual(), positions, torch::kFloat, "residual", from);
  return top;
}

}  // namespace distill::teachers
