// Accuracy and mean task loss of a model on (part of) a dataset, in eval mode.
// batch_size is the most samples per forward pass; fewer are run at once when
// their logits would pass 2^26 elements (a language model's large vocabulary).
//
//   EvalTotals t = evaluate(model, dataset, ids, /*batch_size=*/64, "student");
//   double acc = t.accuracy();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torch::jit {
struct Module;
}

namespace distill::data {
class ShardedDataset;
}

namespace distill::trainer {

struct EvalTotals {
  double correct = 0;  // rows whose argmax equals the label (tokens, for per-token labels)
  double loss_sum = 0;
  double rows = 0;
  double loss_rows = 0;  // rows in loss_sum: all rows, or those whose label a partial model covers
  double accuracy() const { return rows > 0 ? correct / rows : 0.0; }
  double loss() const { return loss_rows > 0 ? loss_sum / loss_rows : 0.0; }
};

// `classes` (optional) is a class map as in distill.teachers[k].classes: model
// output j is dataset class classes[j]. The model's predictions are mapped
// into the dataset's classes, so a model that knows some classes (a teacher
// for amalgamation) is scored on all of them: a row whose label it does not
// cover counts as a miss for the accuracy and is left out of the loss.
EvalTotals evaluate(torch::jit::Module& model, const data::ShardedDataset& dataset,
                    const std::vector<uint64_t>& sample_ids, int64_t batch_size, const std::string& model_name,
                    const std::vector<int64_t>& classes = {});

// Logit elements one evaluation pass may produce (256 MB of fp32): a language
// model's [batch, T, V] logits at V = 128k would otherwise take gigabytes.
inline constexpr int64_t kEvalLogitBudget = int64_t{1} << 26;

// Samples per evaluation pass: as many as fit kEvalLogitBudget, between 1 and batch_size.
int64_t samplesPerPass(int64_t logits_per_sample, int64_t batch_size);

// Every index of the dataset that worker `worker` of `workers` evaluates: w, w+N, ...
std::vector<uint64_t> evalShard(uint64_t num_samples, int worker, int workers);

}  // namespace distill::trainer
