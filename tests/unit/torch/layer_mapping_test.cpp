// Layer mappings: TinyBERT's uniform rule by hand, and every layer choice of a term.
#include <functional>

#include <gtest/gtest.h>

#include "common/error.h"
#include "trainer/distill/layer_mapping.h"

namespace distill::kd {
namespace {

using Map = std::vector<int64_t>;

TEST(LayerMapping, UniformSpreadsTheStudentOverTheTeacher) {
  // round((i+1) * Lt / Ls) - 1
  EXPECT_EQ(uniformLayerMap(2, 4), (Map{1, 3}));          // 2-1, 4-1
  EXPECT_EQ(uniformLayerMap(3, 12), (Map{3, 7, 11}));     // 4-1, 8-1, 12-1
  EXPECT_EQ(uniformLayerMap(4, 4), (Map{0, 1, 2, 3}));    // same depth: layer i <- layer i
  EXPECT_EQ(uniformLayerMap(1, 6), (Map{5}));             // one layer learns from the last
  EXPECT_EQ(uniformLayerMap(4, 6), (Map{1, 2, 4, 5}));    // 1.5->2, 3, 4.5->5, 6: halves round up
  // A deeper student: 0.5->1, 1, 1.5->2, 2 (minus 1) and 0.4->0 is clamped to layer 0.
  EXPECT_EQ(uniformLayerMap(4, 2), (Map{0, 0, 1, 1}));
  EXPECT_EQ(uniformLayerMap(5, 2), (Map{0, 0, 0, 1, 1}));
  EXPECT_THROW(uniformLayerMap(0, 4), Error);
  EXPECT_THROW(uniformLayerMap(2, 0), Error);
}

config::DistillTerm term(const std::string& layers) {
  config::DistillTerm t;
  t.set_kind("hidden_mse");
  t.set_layers(layers);
  return t;
}

std::vector<std::pair<int64_t, int64_t>> flat(const std::vector<LayerPair>& pairs) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const LayerPair& p : pairs) out.emplace_back(p.student, p.teacher);
  return out;
}

TEST(LayerMapping, PairsForEachLayerChoice) {
  using Pairs = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(flat(layerPairs(term("uniform"), "distill.terms[0]", 2, 4, "big")), (Pairs{{0, 1}, {1, 3}}));
  EXPECT_EQ(flat(layerPairs(term("last"), "distill.terms[0]", 2, 4, "big")), (Pairs{{1, 3}}));
  EXPECT_EQ(flat(layerPairs(term("embeddings"), "distill.terms[0]", 2, 4, "big")), (Pairs{{-1, -1}}));

  config::DistillTerm explicit_map = term("explicit");
  auto* p = explicit_map.add_layer_map();
  p->set_student(1);
  p->set_teacher(0);
  p = explicit_map.add_layer_map();
  p->set_student(0);
  p->set_teacher(2);
  EXPECT_EQ(flat(layerPairs(explicit_map, "distill.terms[0]", 2, 4, "big")), (Pairs{{1, 0}, {0, 2}}));
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(LayerMapping, ExplicitLayersOutsideTheModelsAreNamed) {
  config::DistillTerm t = term("explicit");
  auto* p = t.add_layer_map();
  p->set_student(5);
  p->set_teacher(0);
  EXPECT_EQ(errorOf([&] { layerPairs(t, "distill.terms[1]", 2, 4, "big"); }),
            "distill.terms[1].layer_map[0].student: 5 is out of range (student has 2 layers)");
  p->set_student(1);
  p->set_teacher(4);
  EXPECT_EQ(errorOf([&] { layerPairs(t, "distill.terms[1]", 2, 4, "big"); }),
            "distill.terms[1].layer_map[0].teacher: 4 is out of range (teacher 'big' has 4 layers)");
  EXPECT_NE(errorOf([&] { layerPairs(term("every"), "distill.terms[2]", 2, 4, "big"); })
                .find("distill.terms[2].layers: unknown layer choice \"every\""),
            std::string::npos);
  EXPECT_THROW(layerPairs(term("explicit"), "distill.terms[0]", 2, 4, "big"), Error);  // no pairs
}

}  // namespace
}  // namespace distill::kd
