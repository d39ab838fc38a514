#include "trainer/distill/layer_mapping.h"

#include <algorithm>

#include "common/error.h"

namespace distill::kd {

std::vector<int64_t> uniformLayerMap(int64_t student_layers, int64_t teacher_layers) {
  DISTILL_CHECK(student_layers >= 1 && teacher_layers >= 1, "uniform layer mapping needs at least one layer on "
                "each side, got student ", student_layers, " and teacher ", teacher_layers);
  std::vector<int64_t> map;
  for (int64_t i = 0; i < student_layers; ++i) {
    // round(x) for x = (i+1) Lt / Ls, in integers: floor((2 (i+1) Lt + Ls) / (2 Ls)).
    const int64_t rounded = (2 * (i + 1) * teacher_layers + student_layers) / (2 * student_layers);
    map.push_back(std::max<int64_t>(rounded - 1, 0));
  }
  return map;
}

std::vector<LayerPair> layerPairs(const config::DistillTerm& term, const std::string& field,
                                  int64_t student_layers, int64_t teacher_layers, const std::string& teacher) {
  const std::string& layers = term.layers();
  if (layers == "embeddings") return {{kEmbeddingLayer, kEmbeddingLayer}};
  DISTILL_CHECK(student_layers >= 1, field, " (", term.kind(), "): the student has no transformer layers");
  DISTILL_CHECK(teacher_layers >= 1, field, " (", term.kind(), "): teacher '", teacher, "' has no transformer layers");
  std::vector<LayerPair> pairs;
  if (layers == "uniform") {
    const std::vector<int64_t> map = uniformLayerMap(student_layers, teacher_layers);
    for (int64_t i = 0; i < student_layers; ++i) pairs.push_back({i, map[static_cast<size_t>(i)]});
  } else if (layers == "last") {
    pairs.push_back({student_layers - 1, teacher_layers - 1});
  } else if (layers == "explicit") {
    DISTILL_CHECK(term.layer_map_size() > 0, field, ".layer_map: required when layers is \"explicit\"");
    for (int j = 0; j < term.layer_map_size(); ++j) {
      const config::LayerPair& p = term.layer_map(j);
      const std::string pf = field + ".layer_map[" + std::to_string(j) + "]";
      DISTILL_CHECK(p.student() < student_layers, pf, ".student: ", p.student(), " is out of range (student has ",
                    student_layers, " layers)");
      DISTILL_CHECK(p.teacher() < teacher_layers, pf, ".teacher: ", p.teacher(), " is out of range (teacher '",
                    teacher, "' has ", teacher_layers, " layers)");
      pairs.push_back({static_cast<int64_t>(p.student()), static_cast<int64_t>(p.teacher())});
    }
  } else {
    DISTILL_FAIL(field, ".layers: unknown layer choice \"", layers, "\" (accepted: uniform, last, explicit)");
  }
  return pairs;
}

}  // namespace distill::kd
