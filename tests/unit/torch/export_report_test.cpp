// Tests of sparsity_report.json and its table (trainer/checkpoint/export_report.h),
// and of `distill export` end to end (trainer/checkpoint/export.h) on a
// hand-made checkpoint: a head-pruned run gets its heads removed and its
// report names granularity and criterion; an unstructured run keeps its shapes.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "tests/unit/scratch_dir.h"
#include "trainer/checkpoint/export.h"
#include "trainer/checkpoint/export_report.h"
#include "trainer/data/tensor_io.h"
#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::checkpoint {
namespace {

// ---- the report and its table ----------------------------------------------------

TEST(SparsitySettings, ReadFromTrainerStateWithDefaults) {
  const auto none = sparsitySettings(nlohmann::json{{"step", 3}});
  EXPECT_EQ(none.criterion, "unknown");
  EXPECT_EQ(none.granularity, "unstructured");
  EXPECT_EQ(none.scope, "unknown");
  EXPECT_FALSE(none.structured());
  const auto heads = sparsitySettings(
      {{"sparsity_spec", {{"criterion", "movement"}, {"granularity", "heads"}, {"scope", "per_layer"}}}});
  EXPECT_EQ(heads.criterion, "movement");
  EXPECT_EQ(heads.granularity, "heads");
  EXPECT_EQ(heads.scope, "per_layer");
  EXPECT_TRUE(heads.structured());
  EXPECT_TRUE(sparsitySettings({{"sparsity_spec", {{"granularity", "neurons"}}}}).structured());
  EXPECT_FALSE(sparsitySettings({{"sparsity_spec", {{"granularity", "2:4"}}}}).structured());
}

// A 4x3 matrix that lost 2 of its 4 rows and keeps 1 zero among the 6 entries
// left, and a dense 5-vector.
std::vector<ParameterSparsity> twoParameters() {
  return {{"layer0.qkv_weight", {2, 3}, {4, 3}, 1, true}, {"bias", {5}, {5}, 0, false}};
}

StructuredRemoval oneHeadRemoved() {
  StructuredRemoval r;
  r.applied = true;
  r.parameters_before = 17;
  r.parameters_after = 11;
  r.groups = {{"layer0.heads", "heads", 2, {1}}};
  return r;
}

TEST(SparsityReport, PerParameterAndTotalsAgainstHandCountedValues) {
  SparsitySettings s;
  s.criterion = "magnitude";
  s.granularity = "heads";
  s.scope = "global";
  const auto report = sparsityReport("ckpt/step-10", 10, s, twoParameters(), oneHeadRemoved());
  const auto& w = report.at("parameters").at(0);
  EXPECT_EQ(w.at("name"), "layer0.qkv_weight");
  EXPECT_EQ(w.at("shape"), nlohmann::json::array({2, 3}));
  EXPECT_EQ(w.at("original_shape"), nlohmann::json::array({4, 3}));
  EXPECT_EQ(w.at("numel"), 6);
  EXPECT_EQ(w.at("original_numel"), 12);
  EXPECT_EQ(w.at("zeros"), 1);
  EXPECT_DOUBLE_EQ(w.at("density").get<double>(), 5.0 / 12.0);  // 5 nonzeros of the original 12
  EXPECT_EQ(w.at("masked"), true);
  EXPECT_EQ(w.at("granularity"), "heads");
  EXPECT_EQ(w.at("criterion"), "magnitude");
  const auto& b = report.at("parameters").at(1);
  EXPECT_DOUBLE_EQ(b.at("density").get<double>(), 1.0);
  EXPECT_EQ(b.at("granularity"), "dense");
  EXPECT_EQ(b.at("criterion"), "none");

  EXPECT_EQ(report.at("step"), 10);
  EXPECT_EQ(report.at("granularity"), "heads");
  EXPECT_EQ(report.at("criterion"), "magnitude");
  EXPECT_EQ(report.at("scope"), "global");
  EXPECT_EQ(report.at("total_parameters"), 17);  // 12 + 5, original shapes
  EXPECT_EQ(report.at("total_zeros"), 7);        // 17 - 10 nonzeros
  EXPECT_DOUBLE_EQ(report.at("total_sparsity").get<double>(), 7.0 / 17.0);
  EXPECT_EQ(report.at("masked_parameters"), 12);
  EXPECT_DOUBLE_EQ(report.at("masked_sparsity").get<double>(), 7.0 / 12.0);
  EXPECT_EQ(report.at("exported_parameters"), 11);
  const auto& removal = report.at("structured_removal");
  EXPECT_EQ(removal.at("applied"), true);
  EXPECT_EQ(removal.at("removed_parameters"), 6);
  EXPECT_EQ(removal.at("groups").at(0).at("after"), 1);
  EXPECT_EQ(removal.at("groups").at(0).at("removed"), nlohmann::json::array({1}));
}

// 2:4 read from the values: at most 2 nonzeros in every 4 consecutive inputs.
TEST(SparsityReport, TwoOfFourIsReadFromTheValues) {
  const auto w = torch::tensor({{1.f, 0.f, 2.f, 0.f, 0.f, 0.f, 0.f, 3.f}, {0.f, 4.f, 5.f, 0.f, 6.f, 7.f, 0.f, 0.f}});
  EXPECT_TRUE(checkpoint::follows2of4(w));
  auto three = w.clone();
  three[1][3] = 1.f;  // 4, 5 and 1 in the first group of row 1
  EXPECT_FALSE(checkpoint::follows2of4(three));
  EXPECT_FALSE(checkpoint::follows2of4(torch::zeros({2, 6})));  // input dimension not a multiple of 4
  EXPECT_FALSE(checkpoint::follows2of4(torch::zeros({8})));     // not a matrix
  EXPECT_TRUE(checkpoint::follows2of4(torch::zeros({3, 4})));
  checkpoint::ParameterSparsity p{"w", {2, 8}, {2, 8}, 9, true};
  p.pattern_2_4 = true;
  const nlohmann::json report = checkpoint::sparsityReport("ckpt", 3, {}, {p}, {});
  EXPECT_EQ(report.at("parameters").at(0).at("pattern_2_4"), true);
}

TEST(SparsityReport, NoRemovalCarriesItsReason) {
  StructuredRemoval none;
  none.note = "granularity unstructured: only heads and neurons are removed physically";
  const auto report = sparsityReport("c", 1, SparsitySettings{}, twoParameters(), none);
  EXPECT_EQ(report.at("structured_removal").at("applied"), false);
  EXPECT_EQ(report.at("structured_removal").at("note"), none.note);
  EXPECT_EQ(report.at("parameters").at(0).at("granularity"), "unstructured");
  EXPECT_EQ(report.at("parameters").at(0).at("criterion"), "unknown");
}

TEST(SparsityReportTable, AlignedColumnsTotalsAndRemovedUnits) {
  SparsitySettings s;
  s.criterion = "magnitude";
  s.granularity = "heads";
  s.scope = "global";
  const auto report = sparsityReport("ckpt/step-10", 10, s, twoParameters(), oneHeadRemoved());
  const std::string expected =
      "sparsity report r.json: checkpoint ckpt/step-10, step 10\n"
      "\n"
      "parameter          shape  original  density  granularity  criterion\n"
      "layer0.qkv_weight  2x3    4x3       0.4167   heads        magnitude\n"
      "bias               5      5         1.0000   dense        none\n"
      "\n"
      "total           17 parameters        sparsity 0.4118\n"
      "masked          12 parameters        sparsity 0.5833\n"
      "pruning         criterion magnitude  granularity heads, scope global\n"
      "removed         17 -> 11 parameters  6 fewer\n"
      "  layer0.heads  2 -> 1 heads         removed 1\n";
  EXPECT_EQ(formatSparsityReport(report, "r.json"), expected);
}

TEST(SparsityReportTable, OlderReportsShowDashesAndNoOriginalColumn) {
  const nlohmann::json old = {
      {"checkpoint", "c"},
      {"step", 4},
      {"total_parameters", 8},
      {"total_sparsity", 0.25},
      {"masked_parameters", 4},
      {"masked_sparsity", 0.5},
      {"parameters",
       {{{"name", "w"}, {"shape", {2, 2}}, {"density", 0.5}, {"masked", true}, {"granularity", "unstructured"}}}}};
  const std::string table = formatSparsityReport(old, "old.json");
  EXPECT_NE(table.find("parameter  shape  density  granularity   criterion\n"), std::string::npos) << table;
  EXPECT_NE(table.find("w          2x2    0.5000   unstructured  -\n"), std::string::npos) << table;
  EXPECT_NE(table.find("criterion -"), std::string::npos) << table;
}

TEST(SparsityReportTable, NotAReportIsAnErrorNamingTheSource) {
  try {
    formatSparsityReport(nlohmann::json{{"step", 1}}, "student/sparsity_report.json");
    FAIL() << "expected distill::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("student/sparsity_report.json"), std::string::npos) << e.what();
  }
}

// ---- distill export on a hand-made checkpoint --------------------------------------

constexpr int64_t kD = 16;
constexpr int64_t kHeadDim = 4;
constexpr int64_t kPerHead = 3 * kHeadDim * kD + 3 * kHeadDim + kD * kHeadDim;  // q/k/v rows, their biases, out columns

// Masks cover the matrices of both layers: qkv [3D, D], out [D, D], ff1 [12, D], ff2 [D, 12];
// the zeros are head 1's 12 qkv rows and 4 out_weight columns in layer0.
constexpr double kMaskedNumel = 2 * (3 * kD * kD + kD * kD + 2 * 12 * kD);
constexpr double kMaskedZeros = 3 * kHeadDim * kD + kD * kHeadDim;

model::TransformerSize tinySize() {
  model::TransformerSize size;
  size.vocab_size = 32;
  size.max_len = 12;
  size.d_model = kD;
  size.num_heads = 4;
  size.d_ff = 12;
  return size;
}

// <root>/student_module.pt and <root>/checkpoints/step-00000010/ whose masks
// remove head 1 of layer0 (rows of q, k, v and columns of out_weight). The
// weights themselves are stored unmasked: the export must apply W*M.
struct HandMadeRun {
  std::string checkpoint;
  torch::jit::Module masked;  // the student with W*M, for reference outputs
};

HandMadeRun writeRun(const testing::ScratchDir& dir, const nlohmann::json& trainer_state) {
  auto student = model::buildEncoderClassifier(tinySize(), 3, 21);
  student.save(dir.path("student_module.pt"));
  const auto groups = sparsity::builtinGroups(student);
  std::vector<std::pair<std::string, torch::Tensor>> weights, masks;
  torch::NoGradGuard no_grad;
  for (const auto& p : model::namedParameters(student)) {
    weights.emplace_back(p.name, p.tensor.clone());
    if (p.tensor.dim() < 2 || p.name.rfind("layer", 0) != 0) continue;
    torch::Tensor mask = torch::ones_like(p.tensor);
    for (const auto& m : groups[0].members) {  // "layer0.heads"
      if (m.param == p.name) mask.narrow(m.dim, m.offset + 1 * m.size, m.size).zero_();
    }
    masks.emplace_back(p.name, mask);
    p.tensor.mul_(mask);
  }
  const std::string ckpt = dir.path("checkpoints/step-00000010");
  files::makeDirs(ckpt);
  data::saveTensors(ckpt + "/model.safetensors", weights);
  data::saveTensors(ckpt + "/masks.safetensors", masks);
  files::writeFileAtomic(ckpt + "/trainer.json", trainer_state.dump());
  files::writeFileAtomic(ckpt + "/state.json", R"({"step": 10})");
  return {ckpt, student};
}

nlohmann::json trainerState() { return {{"step", 10}, {"student_module", "student_module.pt"}}; }

nlohmann::json parameterEntry(const nlohmann::json& report, const std::string& name) {
  for (const auto& p : report.at("parameters")) {
    if (p.at("name") == name) return p;
  }
  ADD_FAILURE() << "no report entry " << name;
  return {};
}

torch::Tensor logits(torch::jit::Module& m) {
  torch::manual_seed(2);
  const auto ids = torch::randint(0, 32, {2, 7}, torch::kInt64);
  const auto mask = torch::ones({2, 7}, torch::kInt64);
  m.eval();
  torch::NoGradGuard no_grad;
  return model::runModel(m, ids, mask, "exported").logits;
}

TEST(ExportStudent, HeadGranularityRemovesTheHeadsAndReportsIt) {
  testing::ScratchDir dir;
  auto state = trainerState();
  state["sparsity_spec"] = {{"criterion", "magnitude"}, {"granularity", "heads"}, {"scope", "global"}};
  auto run = writeRun(dir, state);
  const auto summary = exportStudent(run.checkpoint, dir.path("student"));
  EXPECT_TRUE(summary.structured);
  EXPECT_EQ(summary.parameters_before - summary.parameters_after, kPerHead);

  const JsonFile report(dir.path("student/sparsity_report.json"));
  EXPECT_EQ(report.get<std::string>("granularity"), "heads");
  EXPECT_EQ(report.get<std::string>("criterion"), "magnitude");
  const auto qkv = parameterEntry(report.json(), "layer0.qkv_weight");
  EXPECT_EQ(qkv.at("shape"), nlohmann::json::array({3 * 3 * kHeadDim, kD}));
  EXPECT_EQ(qkv.at("original_shape"), nlohmann::json::array({3 * kD, kD}));
  EXPECT_DOUBLE_EQ(qkv.at("density").get<double>(), 0.75);  // 3 heads of 4 left, all nonzero
  EXPECT_EQ(qkv.at("granularity"), "heads");
  EXPECT_EQ(qkv.at("criterion"), "magnitude");
  EXPECT_EQ(parameterEntry(report.json(), "embed_tokens").at("granularity"), "dense");
  const auto& removal = report.json().at("structured_removal");
  EXPECT_EQ(removal.at("applied"), true);
  EXPECT_EQ(removal.at("groups").at(0).at("group"), "layer0.heads");
  EXPECT_EQ(removal.at("groups").at(0).at("removed"), nlohmann::json::array({1}));
  EXPECT_DOUBLE_EQ(report.get<double>("masked_sparsity"), kMaskedZeros / kMaskedNumel);  // of the masked model

  auto exported = torch::jit::load(dir.path("student/model.pt"));
  EXPECT_LE((logits(exported) - logits(run.masked)).abs().max().item<double>(), 1e-5);
  const auto tensors = data::loadTensors(dir.path("student/model.safetensors"));
  EXPECT_EQ(tensors.at("layer0.qkv_weight").sizes(), (std::vector<int64_t>{3 * 3 * kHeadDim, kD}));
  EXPECT_EQ(tensors.at("layer0.out_weight").sizes(), (std::vector<int64_t>{kD, 3 * kHeadDim}));
}

TEST(ExportStudent, UnstructuredRunKeepsShapesAndMasksTheWeights) {
  testing::ScratchDir dir;
  auto run = writeRun(dir, trainerState());  // no sparsity_spec: unstructured
  const auto summary = exportStudent(run.checkpoint, dir.path("student"));
  EXPECT_FALSE(summary.structured);
  EXPECT_EQ(summary.parameters_before, summary.parameters_after);
  const JsonFile report(dir.path("student/sparsity_report.json"));
  const auto qkv = parameterEntry(report.json(), "layer0.qkv_weight");
  EXPECT_EQ(qkv.at("shape"), qkv.at("original_shape"));
  EXPECT_DOUBLE_EQ(qkv.at("density").get<double>(), 0.75);
  EXPECT_EQ(qkv.at("granularity"), "unstructured");
  EXPECT_EQ(report.json().at("structured_removal").at("applied"), false);
  EXPECT_DOUBLE_EQ(report.get<double>("masked_sparsity"), kMaskedZeros / kMaskedNumel);
  auto exported = torch::jit::load(dir.path("student/model.pt"));
  EXPECT_LE((logits(exported) - logits(run.masked)).abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace distill::checkpoint
