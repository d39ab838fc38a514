#include "trainer/evaluate.h"

#include <algorithm>

#include <torch/script.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/data/dataset.h"
#include "trainer/distill/task_loss.h"
#include "trainer/distill/teacher_class_map.h"
#include "trainer/model/model_io.h"
#include "trainer/rows.h"

namespace distill::trainer {

int64_t samplesPerPass(int64_t logits_per_sample, int64_t batch_size) {
  return std::clamp<int64_t>(kEvalLogitBudget / std::max<int64_t>(1, logits_per_sample), 1, batch_size);
}

EvalTotals evaluate(torch::jit::Module& model, const data::ShardedDataset& dataset,
                    const std::vector<uint64_t>& sample_ids, int64_t batch_size, const std::string& model_name,
                    const std::vector<int64_t>& classes) {
  DISTILL_CHECK(batch_size > 0, "evaluation batch size must be positive, got ", batch_size);
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const c10::Device device = model::deviceOf(model);  // inputs go where the parameters are
  EvalTotals totals;
  // The first pass is one sample: its logits tell how many samples fit the budget.
  size_t per_pass = 1;
  for (size_t begin = 0; begin < sample_ids.size();) {
    const size_t end = std::min(sample_ids.size(), begin + per_pass);
    const std::vector<uint64_t> ids(sample_ids.begin() + static_cast<long>(begin),
                                    sample_ids.begin() + static_cast<long>(end));
    const data::Batch batch = dataset.gather(ids).to(device);
    const auto out = model::runModel(model, batch.input_ids, batch.attention_mask, model_name);
    Rows rows = toRows(out.logits, batch.labels);
    const torch::Tensor valid = rows.labels.ne(-100);
    torch::Tensor in_loss = valid;
    if (!classes.empty()) {
      const int64_t dataset_classes = dataset.manifest().num_classes;
      rows.logits = kd::toStudentClasses(rows.logits, classes, dataset_classes, "--classes");
      const torch::Tensor covered = torch::zeros({dataset_classes}, torch::dtype(torch::kBool).device(device));
      covered.index_fill_(0, torch::tensor(classes, torch::kInt64).to(device), true);
      in_loss = valid.logical_and(covered.index({rows.labels.clamp_min(0)}));
    }
    const torch::Tensor hits = rows.logits.argmax(-1).eq(rows.labels).logical_and(valid);
    totals.correct += hits.sum().item<double>();
    const torch::Tensor ce = kd::crossEntropyPerSample(rows.logits, rows.labels);
    totals.loss_sum += torch::where(in_loss, ce, torch::zeros_like(ce)).sum().item<double>();
    totals.rows += valid.sum().item<double>();
    totals.loss_rows += in_loss.sum().item<double>();
    if (begin == 0) per_pass = static_cast<size_t>(samplesPerPass(out.logits.numel(), batch_size));
    begin = end;
  }
  if (was_training) model.train();
  return totals;
}

std::vector<uint64_t> evalShard(uint64_t num_samples, int worker, int workers) {
  std::vector<uint64_t> ids;
  for (uint64_t i = static_cast<uint64_t>(worker); i < num_samples; i += static_cast<uint64_t>(workers)) {
    ids.push_back(i);
  }
  return ids;
}

}  // namespace distill::trainer
