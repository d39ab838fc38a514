// The metrics of one training job, served on one Prometheus /metrics endpoint.
//
// The coordinator owns one JobMetrics. Workers never serve metrics: they send
// StepReport and Progress messages over the control plane, and the coordinator
// turns them into counters, gauges and histograms here. Every series carries
// the label job_name (not `job`, which Prometheus overwrites at scrape time).
//
//   monitoring::JobMetrics metrics("demo", /*num_workers=*/2, {"bert", "roberta"});
//   metrics.serve("0.0.0.0", 9400);            // or port 0 for a free port
//   metrics.recordReport(worker, report);      // on every StepReport
//   metrics.recordProgress(worker, step, phase, now);
//   std::cout << metrics.exposition();         // final dump at the end of a job
//
// docs/metrics.md lists every metric and the contract for StepReport fields.
// Thread-compatible: call from the coordinator's single thread. The HTTP
// server's threads only read values, which prometheus-cpp guards itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/control.pb.h"

namespace distill::monitoring {

// Numbers the coordinator's progress line needs, taken from the same reports
// the metrics come from (so the line and the dashboard never disagree).
struct JobSummary {
  double loss = 0;                 // distill_loss{term="total"} (NaN before a report)
  double samples_per_second = 0;   // sum of the workers' distill_worker_samples_per_second
  double sparsity_actual = 0;      // distill_sparsity_actual_ratio (NaN before a report)
  double sparsity_target = 0;      // distill_sparsity_target_ratio (NaN before a report)
};

class JobMetrics {
 public:
  // `job` becomes the job_name label; `teacher_names` get their series at once
  // (NaN until a report) so a dashboard shows every teacher from the start.
  JobMetrics(std::string job, int num_workers, std::vector<std::string> teacher_names);
  ~JobMetrics();
  JobMetrics(const JobMetrics&) = delete;
  JobMetrics& operator=(const JobMetrics&) = delete;

  // Starts serving /metrics on address:port (port 0 picks a free port).
  // Throws distill::Error naming the address if it cannot listen there.
  void serve(const std::string& address, uint16_t port);
  // The port /metrics listens on; 0 before serve().
  uint16_t port() const;

  // Folds in one StepReport of worker `worker` (0-based worker index, which is
  // world rank worker+1). Counters add the report's samples and tokens; job
  // gauges show the mean over the workers whose latest report is at the newest
  // reported step. Reports older than the worker's latest only feed counters.
  // Sparsity state: per-layer density comes from the newest report that
  // carries it (any worker: masks are identical), mask changes are counted
  // from worker 0 only (every worker changes the same entries), state bytes
  // are per worker.
  void recordReport(int worker, const control::StepReport& report);
  // A heartbeat: worker `worker` entered `phase` of `step` at `unix_seconds`.
  void recordProgress(int worker, uint64_t step, const std::string& phase, double unix_seconds);
  // The coordinator's view of the job: current step, length, epoch and ETA.
  void setJobState(uint64_t step, uint64_t total_steps, uint64_t epoch, double eta_seconds);
  // A checkpoint of `step` was committed at `unix_seconds`.
  void recordCheckpoint(uint64_t step, double unix_seconds);
  // An evaluation of the student at `step` finished.
  // `language_modeling`: also the perplexity, exp(loss) (the loss is the mean token cross-entropy).
  void recordEval(uint64_t step, double accuracy, double loss, bool language_modeling = false);
  // sparsity.levels: the evaluation of level `level` (its sparsity, as the label reads).
  void recordLevelEval(const std::string& level, double accuracy, double loss);
  // Placement cache: bytes on disk per cached token of teacher `teacher`.
  void setTeacherCacheBytes(const std::string& teacher, double bytes_per_token);
  // Placement pool: the work teacher rank `rank` (world rank) reported.
  void recordPoolReport(int rank, const control::PoolReport& report);
  // The watchdog's measure: seconds since worker `worker` last made progress.
  void setWatchdog(int worker, double seconds_since_progress);

  // The text exposition format of every metric, series sorted by labels.
  std::string exposition() const;
  // Loss, throughput and sparsity for the progress line.
  JobSummary summary() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace distill::monitoring
