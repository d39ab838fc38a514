#include "monitoring/job_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "common/error.h"
#include "monitoring/metrics_http_server.h"

namespace distill::monitoring {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// A gauge whose value nobody has reported yet reads NaN: the series exists from
// the first scrape (no "missing metric" surprises) but no comparison or alert
// on it fires.
constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// Step times range from milliseconds (the CPU demo) to a minute (large
// teachers on one device); buckets roughly 1-2.5-5 per decade cover both.
const std::vector<double>& stepBuckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                              1,     2.5,  5,     10,   25,  60,  120};
  return buckets;
}

// Gauge families keyed by one label value, adding series on first use.
class LabelledGauges {
 public:
  LabelledGauges(Family<Gauge>& family, std::string label) : family_(family), label_(std::move(label)) {}
  Gauge& get(const std::string& value, double initial = kUnknown) {
    auto it = series_.find(value);
    if (it != series_.end()) return *it->second;
    Gauge& gauge = family_.Add({{label_, value}});
    gauge.Set(initial);
    series_.emplace(value, &gauge);
    return gauge;
  }

 private:
  Family<Gauge>& family_;
  std::string label_;
  std::map<std::string, Gauge*> series_;
};

// Serves the registry with each family's series sorted by labels, so the
// exposition reads (and diffs) the same on every scrape.
class SortedCollectable : public prometheus::Collectable {
 public:
  explicit SortedCollectable(std::shared_ptr<prometheus::Registry> registry) : registry_(std::move(registry)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    auto families = registry_->Collect();
    for (auto& family : families) {
      std::sort(family.metric.begin(), family.metric.end(),
                [](const auto& a, const auto& b) { return a.label < b.label; });
    }
    return families;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

double mean(double sum, int count) { return count > 0 ? sum / count : kUnknown; }

}  // namespace

struct JobMetrics::State {
  struct Worker {
    bool has_report = false;
    control::StepReport latest;  // the report with the highest step so far
    Gauge* samples_per_second = nullptr;
    Gauge* tokens_per_second = nullptr;
    Histogram* step_duration = nullptr;
    Counter* reports = nullptr;
    Gauge* step = nullptr;
    Gauge* last_progress = nullptr;
    Gauge* since_progress = nullptr;
    Gauge* sparsity_state_bytes = nullptr;
    Gauge* optimizer_state_bytes = nullptr;
    std::map<std::string, Gauge*> phase_seconds;
    std::map<std::string, Gauge*> phase;  // state set: 1 for the current phase, 0 for the others
  };

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<SortedCollectable> collectable = std::make_shared<SortedCollectable>(registry);
  std::unique_ptr<MetricsHttpServer> server;
  uint16_t port = 0;
  prometheus::Labels job_label;

  // Families, in the order docs/metrics.md lists them.
  Family<Gauge>* loss = nullptr;
  Family<Gauge>* teacher_kl = nullptr;
  Family<Gauge>* teacher_weight = nullptr;
  Family<Gauge>* teacher_term = nullptr;
  Family<Gauge>* teacher_seconds = nullptr;
  Family<Gauge>* teacher_cache_bytes = nullptr;
  std::unique_ptr<LabelledGauges> seconds_by_teacher, cache_bytes_by_teacher;
  Family<Gauge>* eval_level_loss = nullptr;
  Family<Gauge>* eval_level_accuracy = nullptr;
  std::unique_ptr<LabelledGauges> loss_by_level, accuracy_by_level;
  Gauge* teacher_wait = nullptr;
  Counter* cache_hits = nullptr;
  Family<Counter>* pool_batches = nullptr;   // placement pool, by teacher rank
  Family<Counter>* pool_busy = nullptr;
  std::map<int, std::pair<Counter*, Counter*>> pool_by_rank;
  std::map<std::pair<std::string, std::string>, Gauge*> term_by_teacher;  // (teacher, term)
  Family<Gauge>* phase_seconds = nullptr;
  Family<Gauge>* worker_phase = nullptr;
  Family<Gauge>* layer_density = nullptr;
  std::unique_ptr<LabelledGauges> loss_by_term, kl_by_teacher, weight_by_teacher, density_by_param;
  // Step of the report the per-layer densities come from; densities of an
  // older report (a worker still behind) never overwrite newer ones.
  bool has_density = false;
  uint64_t density_step = 0;

  Counter* samples = nullptr;
  Counter* tokens = nullptr;
  Gauge* learning_rate = nullptr;
  Gauge* grad_norm = nullptr;
  Gauge* sparsity_target = nullptr;
  Gauge* sparsity_actual = nullptr;
  Counter* mask_changes = nullptr;
  Gauge* criterion_trainable = nullptr;
  Gauge* step = nullptr;
  Gauge* total_steps = nullptr;
  Gauge* epoch = nullptr;
  Gauge* eta = nullptr;
  Gauge* checkpoint_step = nullptr;
  Gauge* checkpoint_time = nullptr;
  Gauge* eval_step = nullptr;
  Gauge* eval_accuracy = nullptr;
  Gauge* eval_loss = nullptr;
  Gauge* eval_perplexity = nullptr;
  Gauge* workers = nullptr;
  std::vector<Worker> per_worker;

  Family<Gauge>& gauge(const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Labels(job_label).Register(*registry);
  }
  Gauge& single(const std::string& name, const std::string& help, double initial) {
    Gauge& g = gauge(name, help).Add({});
    g.Set(initial);
    return g;
  }
  Counter& counter(const std::string& name, const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Labels(job_label).Register(*registry).Add({});
  }

  Worker& worker(int index) {
    DISTILL_ASSERT(index >= 0 && index < static_cast<int>(per_worker.size()), "worker index ", index,
                   " outside 0..", per_worker.size() - 1);
    return per_worker[index];
  }

  void updateJobGauges();
  void setPhase(Worker& w, const std::string& worker_label, const std::string& phase);
};

JobMetrics::JobMetrics(std::string job, int num_workers, std::vector<std::string> teacher_names)
    : state_(std::make_unique<State>()) {
  DISTILL_CHECK(num_workers > 0, "metrics of job '", job, "': need at least one worker, got ", num_workers);
  State& s = *state_;
  s.job_label = {{"job_name", job}};

  s.loss = &s.gauge("distill_loss",
                    "Training loss by term (total, task, kd, ...): mean over the workers' reports at the newest reported step.");
  s.loss_by_term = std::make_unique<LabelledGauges>(*s.loss, "term");
  for (const char* term : {"total", "task", "kd"}) s.loss_by_term->get(term);

  s.teacher_kl = &s.gauge("distill_teacher_kl",
                          "KL divergence between each teacher and the student, mean over workers at the newest reported step.");
  s.teacher_weight = &s.gauge("distill_teacher_weight",
                              "Weight the teacher combiner gave each teacher (mean over samples and workers).");
  s.kl_by_teacher = std::make_unique<LabelledGauges>(*s.teacher_kl, "teacher");
  s.weight_by_teacher = std::make_unique<LabelledGauges>(*s.teacher_weight, "teacher");
  for (const auto& name : teacher_names) {
    s.kl_by_teacher->get(name);
    s.weight_by_teacher->get(name);
  }
  s.teacher_term = &s.gauge("distill_teacher_term_loss",
                            "Each intermediate distillation term (distill.terms) against each teacher, before the "
                            "combiner's weights: mean over samples and workers at the newest reported step.");

  s.teacher_seconds = &s.gauge("distill_teacher_seconds",
                               "Seconds each teacher's outputs took per step (its forward pass, or reading its cache): "
                               "mean over workers at the newest reported step.");
  s.seconds_by_teacher = std::make_unique<LabelledGauges>(*s.teacher_seconds, "teacher");
  s.teacher_cache_bytes = &s.gauge("distill_teacher_cache_bytes_per_token",
                                   "Bytes on disk per cached token of each teacher (distill.placement: cache).");
  s.cache_bytes_by_teacher = std::make_unique<LabelledGauges>(*s.teacher_cache_bytes, "teacher");
  s.eval_level_loss = &s.gauge("distill_eval_level_loss",
                               "sparsity.levels: student task loss on the evaluation set at each sparsity level.");
  s.eval_level_accuracy = &s.gauge("distill_eval_level_accuracy",
                                   "sparsity.levels: student accuracy on the evaluation set at each sparsity level.");
  s.loss_by_level = std::make_unique<LabelledGauges>(*s.eval_level_loss, "level");
  s.accuracy_by_level = std::make_unique<LabelledGauges>(*s.eval_level_accuracy, "level");
  for (const auto& name : teacher_names) s.seconds_by_teacher->get(name);
  s.teacher_wait = &s.single("distill_teacher_wait_seconds",
                             "Seconds a step waited for its teachers' outputs (the teachers phase): mean over workers "
                             "at the newest reported step.", kUnknown);
  s.cache_hits = &s.counter("distill_teacher_cache_hits_total",
                            "Training samples whose teacher outputs came from a teacher cache, summed over workers.");
  s.pool_batches = &prometheus::BuildCounter()
                        .Name("distill_teacher_rank_batches_total")
                        .Help("Placement pool: teacher forward passes each teacher rank served (one per teacher and step).")
                        .Labels(s.job_label)
                        .Register(*s.registry);
  s.pool_busy = &prometheus::BuildCounter()
                     .Name("distill_teacher_rank_busy_seconds_total")
                     .Help("Placement pool: seconds each teacher rank spent running its teachers; its rate is the "
                           "rank's busy fraction.")
                     .Labels(s.job_label)
                     .Register(*s.registry);
  s.samples = &s.counter("distill_samples_total", "Training samples consumed, summed over workers.");
  s.tokens = &s.counter("distill_tokens_total", "Training tokens (non-padding) consumed, summed over workers.");
  s.learning_rate = &s.single("distill_learning_rate", "Learning rate of the latest reported step.", kUnknown);
  s.grad_norm = &s.single("distill_grad_norm", "Global L2 norm of the gradient at the latest reported step.",
                          kUnknown);
  s.sparsity_target = &s.single("distill_sparsity_target_ratio",
                                "Fraction of prunable weights the pruning schedule asks for at the latest reported step.",
                                kUnknown);
  s.sparsity_actual = &s.single("distill_sparsity_actual_ratio",
                                "Fraction of prunable weights that are masked (exactly zero) at the latest reported step.",
                                kUnknown);
  s.layer_density = &s.gauge("distill_layer_density_ratio",
                             "Fraction of entries kept by the mask of each masked parameter, as of the latest mask update.");
  s.density_by_param = std::make_unique<LabelledGauges>(*s.layer_density, "param");
  s.mask_changes = &s.counter("distill_mask_changes_total",
                              "Mask entries changed (pruned or revived) by mask updates; masks are the same on every worker.");
  s.criterion_trainable = &s.single(
      "distill_criterion_trainable_parameters",
      "Trainable entries the importance criterion adds to the student (PST's small matrices, learned scores).", kUnknown);
  s.step = &s.single("distill_step", "Current training step as the coordinator sees it.", 0);
  s.total_steps = &s.single("distill_total_steps", "Number of training steps of the job.", 0);
  s.epoch = &s.single("distill_epoch", "Current epoch (0-based).", 0);
  s.eta = &s.single("distill_eta_seconds", "Estimated seconds until the last step finishes.", kUnknown);
  s.checkpoint_step = &s.single("distill_checkpoint_last_step", "Step of the latest committed checkpoint.", kUnknown);
  s.checkpoint_time = &s.single("distill_checkpoint_last_timestamp_seconds",
                                "Unix time the latest checkpoint was committed (0: none yet).", 0);
  s.eval_step = &s.single("distill_eval_last_step", "Step of the latest evaluation.", kUnknown);
  s.eval_accuracy = &s.single("distill_eval_accuracy_ratio", "Student accuracy on the evaluation set at the latest evaluation.",
                              kUnknown);
  s.eval_loss = &s.single("distill_eval_loss", "Student task loss on the evaluation set at the latest evaluation.", kUnknown);
  s.eval_perplexity = &s.single("distill_eval_perplexity",
                               "Student perplexity (exp of the mean token loss) on the evaluation set at the latest "
                               "evaluation; language-modeling data only.", kUnknown);
  s.workers = &s.single("distill_workers", "Number of worker processes in the job.", num_workers);

  auto& samples_per_second = s.gauge(
      "distill_worker_samples_per_second",
      "Samples per second of each worker: report samples / (steps since its previous report * step seconds).");
  auto& tokens_per_second = s.gauge("distill_worker_tokens_per_second",
                                    "Tokens per second of each worker, computed like distill_worker_samples_per_second.");
  auto& step_duration = prometheus::BuildHistogram()
                            .Name("distill_step_duration_seconds")
                            .Help("Wall time of the reported training steps of each worker.")
                            .Labels(s.job_label)
                            .Register(*s.registry);
  auto& reports = prometheus::BuildCounter()
                      .Name("distill_worker_reports_total")
                      .Help("Step reports received from each worker.")
                      .Labels(s.job_label)
                      .Register(*s.registry);
  auto& worker_step = s.gauge("distill_worker_step", "Latest step each worker reported progress or results for.");
  auto& last_progress = s.gauge("distill_worker_last_progress_timestamp_seconds",
                                "Unix time of each worker's latest progress message (0: none yet).");
  auto& since_progress = s.gauge("distill_worker_seconds_since_progress",
                                 "Seconds since each worker last made progress, as the watchdog measures it.");
  s.phase_seconds = &s.gauge("distill_phase_seconds", "Seconds each phase of each worker's latest reported step took.");
  s.worker_phase = &s.gauge("distill_worker_phase",
                            "Phase each worker is in: 1 for the current phase, 0 for phases it was in before.");
  auto& state_bytes = s.gauge("distill_sparsity_state_bytes",
                              "Bytes each worker holds for masks, importance scores and criterion state.");
  auto& optimizer_bytes = s.gauge("distill_optimizer_state_bytes",
                                  "Bytes of AdamW state each worker holds (its share under ZeRO-1).");

  s.per_worker.resize(num_workers);
  for (int i = 0; i < num_workers; ++i) {
    State::Worker& w = s.per_worker[i];
    const prometheus::Labels label = {{"worker", std::to_string(i)}};
    w.samples_per_second = &samples_per_second.Add(label);
    w.samples_per_second->Set(kUnknown);
    w.tokens_per_second = &tokens_per_second.Add(label);
    w.tokens_per_second->Set(kUnknown);
    w.step_duration = &step_duration.Add(label, stepBuckets());
    w.reports = &reports.Add(label);
    w.step = &worker_step.Add(label);
    w.last_progress = &last_progress.Add(label);
    w.since_progress = &since_progress.Add(label);
    w.sparsity_state_bytes = &state_bytes.Add(label);
    w.sparsity_state_bytes->Set(kUnknown);
    w.optimizer_state_bytes = &optimizer_bytes.Add(label);
    w.optimizer_state_bytes->Set(kUnknown);
  }
}

JobMetrics::~JobMetrics() = default;

void JobMetrics::serve(const std::string& address, uint16_t port) {
  State& s = *state_;
  DISTILL_ASSERT(!s.server, "serve() called twice");
  s.server = std::make_unique<MetricsHttpServer>(address, port, [this] { return exposition(); });
  s.port = s.server->port();
}

uint16_t JobMetrics::port() const { return state_->port; }

void JobMetrics::recordReport(int worker, const control::StepReport& report) {
  State& s = *state_;
  State::Worker& w = s.worker(worker);
  // samples and tokens count what the worker consumed since its previous
  // report, so they add up whatever report_every is.
  s.samples->Increment(static_cast<double>(report.samples()));
  s.tokens->Increment(static_cast<double>(report.tokens()));
  s.cache_hits->Increment(static_cast<double>(report.cached_samples()));
  w.reports->Increment();
  w.step_duration->Observe(report.step_seconds());
  // Masks are shared state (every worker derives the same ones, checked by
  // checksum), so every worker changes the same entries: counting each
  // worker's changes would count them once per worker.
  if (worker == 0) s.mask_changes->Increment(static_cast<double>(report.mask_changes()));
  // Densities arrive only after a mask update; they stay until newer ones come.
  if (!report.layer_density().empty() && (!s.has_density || report.step() >= s.density_step)) {
    for (const auto& [param, density] : report.layer_density()) s.density_by_param->get(param).Set(density);
    s.has_density = true;
    s.density_step = report.step();
  }

  if (w.has_report && report.step() <= w.latest.step()) return;  // late or repeated: gauges keep the newer one

  if (w.has_report && report.step_seconds() > 0) {
    // The report covers the steps since the previous one; step_seconds is the
    // time of one of them (the last, or their mean).
    const double steps = static_cast<double>(report.step() - w.latest.step());
    const double seconds = steps * report.step_seconds();
    w.samples_per_second->Set(static_cast<double>(report.samples()) / seconds);
    w.tokens_per_second->Set(static_cast<double>(report.tokens()) / seconds);
  }
  w.has_report = true;
  w.latest = report;
  w.step->Set(std::max(w.step->Value(), static_cast<double>(report.step())));
  w.sparsity_state_bytes->Set(static_cast<double>(report.score_bytes()));
  w.optimizer_state_bytes->Set(static_cast<double>(report.optimizer_bytes()));

  const std::string label = std::to_string(worker);
  for (const auto& [phase, seconds] : report.phase_seconds()) {
    auto it = w.phase_seconds.find(phase);
    if (it == w.phase_seconds.end()) {
      it = w.phase_seconds.emplace(phase, &s.phase_seconds->Add({{"worker", label}, {"phase", phase}})).first;
    }
    it->second->Set(seconds);
  }
  s.updateJobGauges();
}

// Job-level gauges: mean over the workers whose latest report is at the newest
// reported step. With data parallelism each worker's loss is that of its slice
// of the global batch, so the mean is the loss of the global batch. Workers
// still behind are left out until their report for that step arrives.
void JobMetrics::State::updateJobGauges() {
  uint64_t newest = 0;
  for (const Worker& w : per_worker) {
    if (w.has_report) newest = std::max(newest, w.latest.step());
  }
  std::vector<const control::StepReport*> current;
  for (const Worker& w : per_worker) {
    if (w.has_report && w.latest.step() == newest) current.push_back(&w.latest);
  }

  struct Sum {
    double total = 0;
    int count = 0;
    void add(double v) { total += v, ++count; }
  };
  std::map<std::string, Sum> losses, kls, weights, teacher_seconds;
  Sum wait;
  std::map<std::pair<std::string, std::string>, Sum> terms;
  Sum lr, norm, target, actual, trainable;
  for (const control::StepReport* r : current) {
    for (const auto& [term, value] : r->losses()) losses[term].add(value);
    for (const auto& t : r->teachers()) {
      kls[t.name()].add(t.kl());
      teacher_seconds[t.name()].add(t.seconds());
      weights[t.name()].add(t.weight());
      for (const auto& [term, value] : t.terms()) terms[{t.name(), term}].add(value);
    }
    const auto teachers_phase = r->phase_seconds().find("teachers");
    if (teachers_phase != r->phase_seconds().end()) wait.add(teachers_phase->second);
    lr.add(r->learning_rate());
    norm.add(r->grad_norm());
    target.add(r->sparsity_target());
    actual.add(r->sparsity_actual());
    trainable.add(static_cast<double>(r->criterion_trainable()));
  }
  for (const auto& [term, sum] : losses) loss_by_term->get(term).Set(mean(sum.total, sum.count));
  for (const auto& [name, sum] : kls) kl_by_teacher->get(name).Set(mean(sum.total, sum.count));
  for (const auto& [name, sum] : weights) weight_by_teacher->get(name).Set(mean(sum.total, sum.count));
  for (const auto& [name, sum] : teacher_seconds) seconds_by_teacher->get(name).Set(mean(sum.total, sum.count));
  if (wait.count > 0) teacher_wait->Set(mean(wait.total, wait.count));
  for (const auto& [key, sum] : terms) {
    auto it = term_by_teacher.find(key);
    if (it == term_by_teacher.end()) {
      it = term_by_teacher.emplace(key, &teacher_term->Add({{"teacher", key.first}, {"term", key.second}})).first;
    }
    it->second->Set(mean(sum.total, sum.count));
  }
  learning_rate->Set(mean(lr.total, lr.count));
  grad_norm->Set(mean(norm.total, norm.count));
  sparsity_target->Set(mean(target.total, target.count));
  sparsity_actual->Set(mean(actual.total, actual.count));
  criterion_trainable->Set(mean(trainable.total, trainable.count));
}

void JobMetrics::State::setPhase(Worker& w, const std::string& worker_label, const std::string& phase) {
  for (auto& [name, gauge] : w.phase) gauge->Set(0);
  auto it = w.phase.find(phase);
  if (it == w.phase.end()) {
    it = w.phase.emplace(phase, &worker_phase->Add({{"worker", worker_label}, {"phase", phase}})).first;
  }
  it->second->Set(1);
}

void JobMetrics::recordProgress(int worker, uint64_t step, const std::string& phase, double unix_seconds) {
  State& s = *state_;
  State::Worker& w = s.worker(worker);
  w.step->Set(std::max(w.step->Value(), static_cast<double>(step)));
  w.last_progress->Set(unix_seconds);
  w.since_progress->Set(0);
  s.setPhase(w, std::to_string(worker), phase);
}

void JobMetrics::setJobState(uint64_t step, uint64_t total_steps, uint64_t epoch, double eta_seconds) {
  State& s = *state_;
  s.step->Set(static_cast<double>(step));
  s.total_steps->Set(static_cast<double>(total_steps));
  s.epoch->Set(static_cast<double>(epoch));
  s.eta->Set(eta_seconds);
}

void JobMetrics::recordCheckpoint(uint64_t step, double unix_seconds) {
  state_->checkpoint_step->Set(static_cast<double>(step));
  state_->checkpoint_time->Set(unix_seconds);
}

void JobMetrics::recordEval(uint64_t step, double accuracy, double loss, bool language_modeling) {
  state_->eval_step->Set(static_cast<double>(step));
  state_->eval_accuracy->Set(accuracy);
  state_->eval_loss->Set(loss);
  if (language_modeling) state_->eval_perplexity->Set(std::exp(loss));
}

void JobMetrics::recordLevelEval(const std::string& level, double accuracy, double loss) {
  state_->loss_by_level->get(level).Set(loss);
  state_->accuracy_by_level->get(level).Set(accuracy);
}

void JobMetrics::recordPoolReport(int rank, const control::PoolReport& report) {
  State& s = *state_;
  auto it = s.pool_by_rank.find(rank);
  if (it == s.pool_by_rank.end()) {
    const std::map<std::string, std::string> label = {{"rank", std::to_string(rank)}};
    it = s.pool_by_rank.emplace(rank, std::make_pair(&s.pool_batches->Add(label), &s.pool_busy->Add(label))).first;
  }
  it->second.first->Increment(static_cast<double>(report.batches()));
  it->second.second->Increment(std::max(report.busy_seconds(), 0.0));
}

void JobMetrics::setTeacherCacheBytes(const std::string& teacher, double bytes_per_token) {
  state_->cache_bytes_by_teacher->get(teacher).Set(bytes_per_token);
}

void JobMetrics::setWatchdog(int worker, double seconds_since_progress) {
  state_->worker(worker).since_progress->Set(seconds_since_progress);
}

std::string JobMetrics::exposition() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, state_->collectable->Collect());
  return out.str();
}

JobSummary JobMetrics::summary() const {
  const State& s = *state_;
  JobSummary summary;
  summary.loss = s.loss_by_term->get("total").Value();
  double rate = 0;
  for (const State::Worker& w : s.per_worker) {
    const double r = w.samples_per_second->Value();
    if (!std::isnan(r)) rate += r;
  }
  summary.samples_per_second = rate;
  summary.sparsity_actual = s.sparsity_actual->Value();
  summary.sparsity_target = s.sparsity_target->Value();
  return summary;
}

}  // namespace distill::monitoring
