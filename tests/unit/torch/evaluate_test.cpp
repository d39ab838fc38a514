// evaluate(): the totals do not depend on how many samples a pass holds, and a
// large vocabulary cuts the passes to the logit budget.
#include "trainer/evaluate.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include "tests/unit/scratch_dir.h"
#include "trainer/data/dataset.h"
#include "trainer/data/synthetic_task.h"
#include "trainer/model/builtin.h"

namespace distill::trainer {
namespace {

TEST(Evaluate, ALargeVocabularyCutsThePassesToTheLogitBudget) {
  // Llama 3: 128256 tokens x 32 positions is 4.1 M logits a sample: 16 fit.
  EXPECT_EQ(samplesPerPass(128256 * 32, 128), 16);
  EXPECT_EQ(samplesPerPass(128256 * 4096, 128), 1);  // never fewer than one
  EXPECT_EQ(samplesPerPass(6, 128), 128);            // a classifier: the batch size
  EXPECT_EQ(samplesPerPass(0, 8), 8);
}

TEST(Evaluate, TotalsDoNotDependOnTheSamplesPerPass) {
  testing::ScratchDir dir;
  data::SyntheticOptions options;
  options.task = data::kTaskLanguageModeling;
  options.num_samples = 40;
  options.vocab_size = 50;
  options.seq_len = 12;
  data::writeSyntheticTask(options, dir.path("data"));
  const auto dataset = data::ShardedDataset::open(dir.path("data"));
  model::TransformerSize size;
  size.vocab_size = 50;
  size.max_len = 12;
  size.d_model = 16;
  size.num_layers = 1;
  size.num_heads = 2;
  size.d_ff = 32;
  size.dropout = 0;
  torch::jit::Module model = model::buildDecoderLM(size, 3);
  model.train();
  const std::vector<uint64_t> ids = evalShard(40, 0, 1);
  const EvalTotals one = evaluate(model, dataset, ids, 1, "model");
  const EvalTotals all = evaluate(model, dataset, ids, 64, "model");
  EXPECT_GT(one.rows, 0);
  EXPECT_EQ(one.rows, all.rows);
  EXPECT_EQ(one.correct, all.correct);
  EXPECT_NEAR(one.loss(), all.loss(), 1e-5);
  EXPECT_TRUE(model.is_training()) << "evaluate must leave a training model in training mode";
}

}  // namespace
}  // namespace distill::trainer
