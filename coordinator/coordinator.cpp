#include "coordinator/coordinator.h"

#include <cmath>

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/checkpoint_layout.h"
#include "common/clock.h"
#include "common/dataset_manifest.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "control/mpi_channel.h"
#include "coordinator/checkpoint_commit.h"
#include "coordinator/teacher_plan.h"
#include "coordinator/data_ledger.h"
#include "coordinator/peer_liveness.h"
#include "coordinator/progress_line.h"
#include "coordinator/watchdog.h"
#include "monitoring/job_metrics.h"

namespace distill::coordinator {
namespace fs = std::filesystem;
namespace {

// Seconds a worker may spend in a slow phase (model loading first): a fixed
// allowance plus one per GB of the student's and the teachers' files.
double setupAllowanceSeconds(const config::JobConfig& cfg) {
  double bytes = 0;
  std::error_code ec;
  auto add = [&](const std::string& path) {
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) bytes += static_cast<double>(size);
  };
  add(cfg.student().path());
  for (const auto& t : cfg.distill().teachers()) add(t.path());
  return cfg.runtime().setup_seconds() + cfg.runtime().setup_seconds_per_gb() * bytes / 1e9;
}


// Batches are sent this many steps ahead of a worker's progress, so a worker
// never waits on the coordinator in the steady state.
constexpr uint64_t kLookahead = 8;

std::atomic<int> g_stop_signal{0};
extern "C" void onStopSignal(int sig) { g_stop_signal.store(sig); }

// A sparsity level as a label and in the log: "0.7", not "0.700000".
std::string formatLevel(double level) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", level);
  return text;
}

std::string hostName() {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace

struct Coordinator::State {
  config::JobConfig config;
  CoordinatorOptions options;
  control::MpiChannel& channel;
  StoreServerStarter start_store;

  int workers = 0;
  int teacher_ranks = 0;                // placement pool: world ranks workers+1 .. workers+teacher_ranks
  std::vector<std::vector<int>> replicas;  // placement pool: per teacher, the world ranks holding it
  uint64_t teacher_sent_through = 0;    // placement pool: TeacherRequests sent for steps < this
  std::vector<bool> pool_finished;      // per teacher rank
  uint64_t start_step = 0;
  uint64_t total_steps = 0;
  std::unique_ptr<DataLedger> data_ledger;  // the data ledger: which samples each step takes
  std::unique_ptr<Watchdog> watchdog;
  PeerLiveness peers;  // pid and host of every member, from its Progress messages
  std::unique_ptr<CheckpointCommitter> committer;
  std::unique_ptr<monitoring::JobMetrics> metrics;
  std::unique_ptr<ProgressLine> progress;
  std::vector<uint64_t> sent_through;   // per worker: batches sent for steps < this
  std::vector<uint64_t> worker_step;    // per worker: last step seen
  std::vector<uint64_t> scored_through; // per worker, with data selection: SampleScores in for steps < this
  std::vector<bool> finished;
  uint64_t stop_after = UINT64_MAX;     // set by SIGTERM/SIGINT
  bool stopping = false;
  bool language_modeling = false;       // eval reports perplexity, exp(mean token loss)

  State(config::JobConfig c, CoordinatorOptions o, control::MpiChannel& ch, StoreServerStarter s)
      : config(std::move(c)), options(std::move(o)), channel(ch), start_store(std::move(s)) {}

  void sendAssignments(int worker);
  void sendTeacherWork();
  void handleTeacherRank(const control::Incoming& in);
  std::string teacherRankName(int rank) const;
  // "worker 1 (rank 2) (pid 812) died ...; " for every member but `except`
  // whose process is gone: what a failure or a stall message leads with.
  std::string deadPeers(int except) const;
  void recordScores(int worker, const control::SampleScores& scores);
  void selectWhenScored();
  void handle(const control::Incoming& in);
  void requestStop(int signal);
  nlohmann::json ledger(uint64_t step) const;
  [[noreturn]] void abortJob(const std::string& message, int exit_code = kExitFailure);
};

Coordinator::Coordinator(config::JobConfig config, CoordinatorOptions options, control::MpiChannel& channel,
                         StoreServerStarter start_store)
    : state_(std::make_unique<State>(std::move(config), std::move(options), channel, std::move(start_store))) {}

Coordinator::~Coordinator() = default;

void Coordinator::State::abortJob(const std::string& message, int exit_code) {
  log::error(message);
  log::error("aborting the job");
  if (metrics) std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

nlohmann::json Coordinator::State::ledger(uint64_t step) const {
  nlohmann::json state = data_ledger->record(step);
  state["total_steps"] = total_steps;
  state["job"] = config.name();
  state["committed_at_unix"] = clock::unixSeconds();
  return state;
}

void Coordinator::State::sendAssignments(int worker) {
  // With data selection, an epoch's batches exist once it is selected.
  const uint64_t horizon = std::min({total_steps, stop_after, worker_step[worker] + kLookahead,
                                     data_ledger->schedule().selectionHorizon()});
  if (sent_through[worker] >= horizon) return;
  control::ControlMessage message;
  auto* assignment = message.mutable_assignment();
  for (uint64_t step = sent_through[worker]; step < horizon; ++step) {
    auto* batch = assignment->add_batches();
    batch->set_step(step);
    batch->set_epoch(data_ledger->schedule().epochOf(step));
    for (uint64_t id : data_ledger->schedule().samples(step, worker)) batch->add_samples(id);
  }
  channel.send(worker + 1, message);
  sent_through[worker] = horizon;
}

// Placement pool: every worker's batch of the steps up to distill.pool.ahead_steps
// past the slowest worker goes to the teacher ranks, each teacher's share to
// one of the ranks holding it (round robin over steps and workers), so the
// teachers run while the workers train the steps before.
void Coordinator::State::sendTeacherWork() {
  if (teacher_ranks == 0) return;
  const uint64_t slowest = *std::min_element(worker_step.begin(), worker_step.end());
  const uint64_t horizon = std::min({total_steps, stop_after, slowest + config.distill().pool().ahead_steps(),
                                     data_ledger->schedule().selectionHorizon()});
  if (teacher_sent_through >= horizon) return;
  std::map<int, control::ControlMessage> by_rank;
  for (uint64_t step = teacher_sent_through; step < horizon; ++step) {
    for (int w = 0; w < workers; ++w) {
      const auto samples = data_ledger->schedule().samples(step, w);
      std::map<int, control::TeacherWork*> here;  // rank -> its request for this (step, worker)
      for (size_t k = 0; k < replicas.size(); ++k) {
        const auto& holders = replicas[k];
        const int rank = holders[(step * static_cast<uint64_t>(workers) + static_cast<uint64_t>(w)) % holders.size()];
        auto& work = here[rank];
        if (!work) {
          work = by_rank[rank].mutable_teacher_requests()->add_work();
          work->set_step(step);
          work->set_worker(static_cast<uint32_t>(w));
          for (uint64_t id : samples) work->add_samples(id);
        }
        work->add_teachers(static_cast<uint32_t>(k));
      }
    }
  }
  for (const auto& [rank, message] : by_rank) channel.send(rank, message);
  teacher_sent_through = horizon;
}

std::string Coordinator::State::teacherRankName(int rank) const {
  std::string names;
  for (size_t k = 0; k < replicas.size(); ++k) {
    if (std::find(replicas[k].begin(), replicas[k].end(), rank) == replicas[k].end()) continue;
    names += (names.empty() ? "'" : ", '") + config.distill().teachers(static_cast<int>(k)).name() + "'";
  }
  return detail::concat("teacher rank ", rank, " (teacher ", names, ")");
}

std::string Coordinator::State::deadPeers(int except) const {
  const double now = clock::unixSeconds();
  std::string text;
  for (int member : peers.dead()) {
    if (member == except) continue;
    const Stall seen = watchdog->lastSeen(member, now);
    char ago[32];
    std::snprintf(ago, sizeof(ago), "%.1f", seen.silent_seconds);
    text += detail::concat(seen.name, peers.pidNote(member), " died (its process is gone: killed by a signal, or ",
                           "out of memory, see dmesg), last seen ", ago, " s ago at step ", seen.step, " in phase ",
                           seen.phase, "; then ");
  }
  return text;
}

void Coordinator::State::handleTeacherRank(const control::Incoming& in) {
  const int member = in.source - 1;  // watched after the workers
  const auto& m = in.message;
  const double now = clock::unixSeconds();
  switch (m.body_case()) {
    case control::ControlMessage::kProgress:
      watchdog->progress(member, m.progress().step(), m.progress().phase(), now);
      peers.seen(member, m.progress().pid(), m.progress().host());
      break;
    case control::ControlMessage::kPoolReport:
      metrics->recordPoolReport(in.source, m.pool_report());
      break;
    case control::ControlMessage::kFinished:
      pool_finished[static_cast<size_t>(member - workers)] = true;
      watchdog->finished(member);
      break;
    case control::ControlMessage::kFailure: {
      const auto& f = m.failure();
      abortJob(detail::concat(deadPeers(member), teacherRankName(in.source), " failed at step ", f.step(),
                              " in phase ", f.phase(), ": ", f.message()),
               f.bad_input() ? kExitBadInput : kExitFailure);
    }
    default:
      abortJob(detail::concat("unexpected control message from ", teacherRankName(in.source)));
  }
}

// Data selection: every worker sends the entropies of each step it trained,
// in step order, before it waits for its next batch. The next epoch is
// selected once every worker has scored every step before it, so the choice
// does not depend on message timing, and the workers, all waiting for their
// first batch of that epoch, get it right after.
void Coordinator::State::recordScores(int worker, const control::SampleScores& scores) {
  if (!data_ledger->selecting()) {
    abortJob(detail::concat("worker ", worker, " (rank ", worker + 1, ") sent data selection scores for step ",
                            scores.step(), ", but training.data_selection is off"));
  }
  if (scores.step() != scored_through[worker]) {
    abortJob(detail::concat("worker ", worker, " (rank ", worker + 1, ") sent data selection scores for step ",
                            scores.step(), ", expected step ", scored_through[worker],
                            " (one SampleScores per step, in step order)"));
  }
  try {
    data_ledger->recordScores(scores.step(), {scores.samples().begin(), scores.samples().end()},
                              {scores.entropy().begin(), scores.entropy().end()});
  } catch (const Error& e) {
    abortJob(detail::concat("worker ", worker, " (rank ", worker + 1, "): ", e.what()));
  }
  scored_through[worker] = scores.step() + 1;
  selectWhenScored();
}

void Coordinator::State::selectWhenScored() {
  if (!data_ledger->selecting()) return;
  const uint64_t first_step = data_ledger->schedule().selectionHorizon();
  // An epoch that starts at the job's end is never trained: not selected.
  if (first_step >= std::min(total_steps, stop_after)) return;
  if (*std::min_element(scored_through.begin(), scored_through.end()) < first_step) return;
  const EpochSelection chosen = data_ledger->selectNextEpoch();
  log::info("data selection for epoch ", chosen.epoch, ": kept ", chosen.kept, " of ", chosen.num_samples,
            " samples (entropy >= ", chosen.min_entropy, ")",
            chosen.never_scored > 0 ? detail::concat(", ", chosen.never_scored, " of them never scored") : "");
  for (int w = 0; w < workers; ++w) sendAssignments(w);
  sendTeacherWork();
}

void Coordinator::State::requestStop(int signal) {
  if (stopping) return;
  // mpirun ends every rank with SIGTERM when one of them dies (a teacher rank
  // killed while the workers wait for its outputs): name the dead one, no stop.
  if (const std::string dead = deadPeers(-1); !dead.empty()) {
    abortJob(detail::concat(dead, "signal ", signal, ": mpirun is ending the job"));
  }
  stopping = true;
  // No worker can be past the batches already sent, so every worker can stop
  // after the last of them: all stop at the same step, which they checkpoint.
  stop_after = std::min(*std::max_element(sent_through.begin(), sent_through.end()), total_steps);
  log::warn("signal ", signal, ": stopping after step ", stop_after, ", with a checkpoint");
  control::ControlMessage message;
  message.mutable_command()->set_kind(control::Command::STOP_AFTER);
  message.mutable_command()->set_step(stop_after);
  for (int w = 0; w < workers; ++w) channel.send(w + 1, message);
}

void Coordinator::State::handle(const control::Incoming& in) {
  if (in.source > workers) return handleTeacherRank(in);
  const int worker = in.source - 1;
  DISTILL_ASSERT(worker >= 0 && worker < workers, "control message from rank ", in.source);
  const auto& m = in.message;
  const double now = clock::unixSeconds();
  switch (m.body_case()) {
    case control::ControlMessage::kProgress:
      watchdog->progress(worker, m.progress().step(), m.progress().phase(), now);
      peers.seen(worker, m.progress().pid(), m.progress().host());
      metrics->recordProgress(worker, m.progress().step(), m.progress().phase(), now);
      worker_step[worker] = std::max(worker_step[worker], m.progress().step());
      sendAssignments(worker);
      sendTeacherWork();
      break;
    case control::ControlMessage::kScores:
      recordScores(worker, m.scores());
      break;
    case control::ControlMessage::kReport: {
      const auto& r = m.report();
      watchdog->progress(worker, r.step(), "report", now);
      metrics->recordReport(worker, r);
      if (worker == 0) {
        progress->recordStep(r.step(), now);
        const double eta = progress->etaSeconds(total_steps);
        // The epoch of the step just done, from the ledger: after a resume on
        // another worker count it is no longer step / steps_per_epoch.
        const uint64_t epoch = data_ledger->schedule().epochOf(std::max(r.step(), start_step + 1) - 1);
        metrics->setJobState(r.step(), total_steps, epoch, eta);
        if (progress->due(now) || r.step() == total_steps) {
          const auto summary = metrics->summary();  // the same numbers the dashboard shows
          ProgressState line;
          line.step = r.step();
          line.total_steps = total_steps;
          line.loss = summary.loss;
          line.samples_per_second = summary.samples_per_second;
          line.sparsity = summary.sparsity_actual;
          line.sparsity_target = summary.sparsity_target;
          line.eta_seconds = eta;
          std::fputs(progress->render(line).c_str(), stderr);
        }
      }
      break;
    }
    case control::ControlMessage::kCheckpointWritten: {
      const uint64_t step = m.checkpoint_written().step();
      if (committer->partWritten(step, worker)) {
        const std::string dir = committer->commit(step, ledger(step));
        data_ledger->prune(step);  // what no later checkpoint can record
        metrics->recordCheckpoint(step, now);
        log::info("checkpoint committed: ", dir);
        // Test hook (docs/testing.md): a crash right after a commit.
        const char* crash = std::getenv("DISTILL_FAULT_ABORT_AFTER_COMMIT");
        if (crash && std::stoull(crash) == step) abortJob("DISTILL_FAULT_ABORT_AFTER_COMMIT: simulated crash");
      }
      break;
    }
    case control::ControlMessage::kEval: {
      const auto& e = m.eval();
      metrics->recordEval(e.step(), e.accuracy(), e.loss(), language_modeling);
      nlohmann::json result = {{"step", e.step()}, {"accuracy", e.accuracy()}, {"loss", e.loss()},
                               {"samples", e.samples()}};
      if (language_modeling) {
        result["perplexity"] = std::exp(e.loss());
        log::info("eval at step ", e.step(), ": perplexity ", std::exp(e.loss()), ", token accuracy ", e.accuracy(),
                  ", loss ", e.loss(), " (", e.samples(), " samples)");
      } else {
        log::info("eval at step ", e.step(), ": accuracy ", e.accuracy(), ", loss ", e.loss(), " (", e.samples(),
                  " samples)");
      }
      for (const auto& l : e.levels()) {  // sparsity.levels: the student at every level
        const std::string level = formatLevel(l.sparsity());
        metrics->recordLevelEval(level, l.accuracy(), l.loss());
        nlohmann::json at = {{"sparsity", l.sparsity()}, {"accuracy", l.accuracy()}, {"loss", l.loss()}};
        if (language_modeling) at["perplexity"] = std::exp(l.loss());
        result["levels"].push_back(at);
        log::info("  level ", level, ": ", language_modeling ? "perplexity " : "accuracy ",
                  language_modeling ? std::exp(l.loss()) : l.accuracy(), ", loss ", l.loss());
      }
      files::writeFileAtomic((fs::path(config.run_dir()) / "eval.json").string(), result.dump(2) + "\n");
      break;
    }
    case control::ControlMessage::kFinished:
      finished[worker] = true;
      watchdog->finished(worker);
      break;
    case control::ControlMessage::kFailure: {
      const auto& f = m.failure();
      abortJob(detail::concat(deadPeers(worker), "worker ", worker, " (rank ", in.source, ") failed at step ",
                              f.step(), " in phase ", f.phase(), ": ", f.message()),
               f.bad_input() ? kExitBadInput : kExitFailure);
    }
    default:
      abortJob(detail::concat("unexpected control message from rank ", in.source));
  }
}

int Coordinator::run() {
  State& s = *state_;
  const auto& cfg = s.config;
  s.teacher_ranks = s.options.teacher_ranks;
  s.workers = s.channel.size() - 1 - s.teacher_ranks;
  DISTILL_CHECK(s.workers >= 1, "the job needs at least one worker rank besides the coordinator",
                s.teacher_ranks > 0 ? " and the teacher ranks" : "",
                ": run it with launch/distill-mpirun -n WORKERS, or mpirun -np WORKERS+1");
  files::makeDirs(cfg.run_dir());
  files::writeFileAtomic((fs::path(cfg.run_dir()) / "config.resolved.yaml").string(), s.options.config_yaml);

  // Plan: the data order and the step count depend on the manifest only. The
  // shards are checked against it once, here, instead of by every worker.
  const auto manifest = data::DatasetManifest::load(cfg.data().train());
  s.language_modeling = manifest.task == "language_modeling";
  for (const auto& [field, dir] : {std::pair<std::string, std::string>{"data.train", cfg.data().train()},
                                   {"data.eval", cfg.data().eval()}}) {
    if (dir.empty()) continue;
    try {
      data::verifyShardChecksums(data::DatasetManifest::load(dir));
    } catch (const Error& e) {
      DISTILL_FAIL(field, ": ", e.what());
    }
  }
  DataShape shape;
  for (const auto& shard : manifest.shards) shape.shard_sizes.push_back(shard.num_samples);
  shape.seed = cfg.seed();
  shape.batch_size = cfg.training().batch_size();
  shape.num_workers = s.workers;
  shape.dataset_digest = datasetDigest(manifest);
  shape.selection_fraction = cfg.training().data_selection().fraction();

  std::string resume_from;
  const auto latest = checkpoint_layout::latest(cfg.run_dir());
  if (s.options.resume && latest) {
    resume_from = *latest;
    s.start_step = checkpoint_layout::committedStep(resume_from);
    checkpoint_layout::verifyFiles(resume_from);  // a damaged file is named here, not met as a bad loss later
    // The ledger continues where the checkpoint's stopped, on any worker count
    // (docs/checkpoints.md); it refuses a changed seed, batch size or dataset.
    const std::string ledger_file = (fs::path(resume_from) / checkpoint_layout::kStateFile).string();
    s.data_ledger = std::make_unique<DataLedger>(DataLedger::resume(ledger_file, shape));
    s.total_steps = s.data_ledger->totalSteps(cfg.training().max_steps(), cfg.training().epochs());
    DISTILL_CHECK(s.total_steps >= s.start_step, ledger_file, ": the checkpoint is at step ", s.start_step,
                  ", past the ", s.total_steps, " steps of this job (training.max_steps = ", cfg.training().max_steps(),
                  "): raise training.max_steps or start a new run_dir");
    const LedgerPosition at = s.data_ledger->schedule().start();
    log::info("resuming from ", resume_from, " at step ", s.start_step, " (epoch ", at.epoch, ", sample ", at.offset,
              " of its order; checkpoint written by ", s.data_ledger->resumedWorkers(), " workers, now ", s.workers,
              ", global batch ", s.data_ledger->schedule().globalBatch(), ")");
  } else {
    if (s.options.resume) {
      log::info("--resume: no checkpoint in ", checkpoint_layout::root(cfg.run_dir()), ", starting at step 0");
    } else if (!s.options.teacher_pass_only) {
      DISTILL_CHECK(!latest, "run_dir: ", cfg.run_dir(), " already holds checkpoints (latest: ", *latest,
                    "): pass --resume to continue that run, or choose another run_dir");
    }
    s.data_ledger = std::make_unique<DataLedger>(shape);
    s.total_steps = s.data_ledger->totalSteps(cfg.training().max_steps(), cfg.training().epochs());
  }
  if (s.options.teacher_pass_only) s.total_steps = s.start_step;  // cache-teachers: no training steps
  s.committer = std::make_unique<CheckpointCommitter>(cfg.run_dir(), s.workers, cfg.checkpoint().keep());

  // Teachers: replicated on every worker, or cached by a teacher pass first (teacher_plan.h).
  // The epochs still ahead (after a resume, those left): what a cache would save.
  const double epochs = static_cast<double>(s.total_steps - std::min(s.total_steps, s.start_step)) /
                        static_cast<double>(std::max<uint64_t>(1, s.data_ledger->schedule().stepsPerEpoch()));
  const TeacherPlan teachers = planTeachers(cfg, manifest, s.workers, epochs, s.teacher_ranks);
  if (teachers.plan.placement == "pool") {
    // One TeacherOutput holds a worker's batch: MPI counts and protobuf messages stop at 2 GiB.
    const bool lm = manifest.task == "language_modeling";
    const double width = static_cast<double>(lm ? manifest.vocab_size : manifest.num_classes);
    const double k = std::min(static_cast<double>(cfg.distill().pool().top_k()), width);
    const double bytes = static_cast<double>(cfg.training().batch_size()) *
                         static_cast<double>(lm ? manifest.seq_len : 1) * (8 * k + 4);
    DISTILL_CHECK(bytes < 1.8e9, "distill.pool.top_k: ", k, " tokens per position make one worker's teacher output ",
                  bytes / 1e9, " GB (training.batch_size ", cfg.training().batch_size(),
                  " x 8k + 4 bytes per token), over what one MPI message carries (2 GB): lower top_k or the batch");
  }
  s.replicas.assign(static_cast<size_t>(cfg.distill().teachers_size()), {});
  for (const auto& rank : teachers.pool) {
    for (uint32_t k : rank.teachers()) s.replicas[k].push_back(static_cast<int>(rank.rank()));
  }
  if (cfg.distill().teachers_size() > 0) {
    log::info("teachers: placement ", teachers.plan.placement, " (", teachers.plan.reason, ")");
    for (const auto& note : teachers.notes) log::info(note);
    if (!teachers.work.empty()) {
      log::info("teacher pass: ", teachers.work.size(), " teacher-shard pairs over ", s.workers, " workers");
    }
  }

  std::vector<std::string> teacher_names;
  for (const auto& t : cfg.distill().teachers()) teacher_names.push_back(t.name());
  s.metrics = std::make_unique<monitoring::JobMetrics>(cfg.name(), s.workers, teacher_names);
  s.metrics->serve(cfg.metrics().address(), static_cast<uint16_t>(cfg.metrics().port()));
  if (teachers.plan.placement == "cache") {
    // log-probabilities float16 + ids int32 per kept token, and the residual float32 (teachers/teacher_cache.h)
    const double bytes = 6.0 * cfg.distill().cache().top_k() + 4.0;
    for (const auto& t : cfg.distill().teachers()) s.metrics->setTeacherCacheBytes(t.name(), bytes);
  }
  const std::string endpoint = cfg.metrics().address() + ":" + std::to_string(s.metrics->port());
  files::writeFileAtomic((fs::path(cfg.run_dir()) / "metrics_endpoint").string(), endpoint + "\n");
  log::info("job ", cfg.name(), ": ", s.workers, " workers, ", s.total_steps, " steps (",
            s.data_ledger->schedule().stepsPerEpoch(), " per epoch, global batch ",
            s.data_ledger->schedule().globalBatch(), "), metrics on http://", endpoint, "/metrics");

  // Rendezvous: the store server lives in this process; workers learn where over MPI.
  uint16_t store_port = 0;
  uint16_t requested_port = 0;
  if (const char* master_port = std::getenv("MASTER_PORT")) {
    char* end = nullptr;
    const long port = std::strtol(master_port, &end, 10);
    DISTILL_CHECK(*master_port && !*end && port >= 0 && port <= 65535, "MASTER_PORT=\"", master_port,
                  "\" is not a port number (0-65535)");
    requested_port = static_cast<uint16_t>(port);
  }
  StoreServer store = s.start_store(requested_port, &store_port);
  control::Bootstrap boot;
  const char* master_addr = std::getenv("MASTER_ADDR");
  boot.set_store_host(master_addr ? master_addr : hostName());
  boot.set_store_port(store_port);
  boot.set_num_workers(static_cast<uint32_t>(s.workers));
  boot.set_start_step(s.start_step);
  boot.set_total_steps(s.total_steps);
  boot.set_resume_from(resume_from);
  boot.set_steps_per_epoch(s.data_ledger->schedule().stepsPerEpoch());
  boot.set_placement(teachers.plan.placement);
  for (const auto& dir : teachers.cache_dirs) boot.add_cache_dirs(dir);
  for (const auto& key : teachers.cache_keys) *boot.add_cache_keys() = key;
  for (const auto& work : teachers.work) *boot.add_cache_work() = work;
  for (const auto& rank : teachers.pool) *boot.add_pool() = rank;
  boot.set_pool_top_k(cfg.distill().pool().top_k());
  control::broadcastBootstrap(boot);

  // Loading models, the rendezvous, checkpoints and evaluation may take longer
  // than a step: they get the longest of the watchdog, the collective timeout
  // and the set-up allowance, which grows with the bytes of model files loaded.
  const double slow_seconds = std::max({cfg.runtime().watchdog_seconds(), cfg.runtime().collective_timeout_seconds(),
                                        setupAllowanceSeconds(cfg)});
  log::info("coordinator: model loading, checkpoints and evaluation may take up to ", slow_seconds,
            " s per phase (runtime.setup_seconds + runtime.setup_seconds_per_gb per GB of model files)");
  // Teacher ranks are watched after the workers, by their own names.
  s.watchdog = std::make_unique<Watchdog>(
      s.workers + s.teacher_ranks, cfg.runtime().watchdog_seconds(), clock::unixSeconds(), slow_seconds,
      std::set<std::string>{"startup", "setup", "rendezvous", "resume", "checkpoint", "eval", "teacher-pass"});
  for (int p = 0; p < s.teacher_ranks; ++p) s.watchdog->setName(s.workers + p, s.teacherRankName(s.workers + 1 + p));
  s.pool_finished.assign(static_cast<size_t>(s.teacher_ranks), false);
  s.teacher_sent_through = s.start_step;
  s.progress = std::make_unique<ProgressLine>(cfg.metrics().progress_seconds(), stderrIsTerminal());
  s.sent_through.assign(s.workers, s.start_step);
  s.worker_step.assign(s.workers, s.start_step);
  s.finished.assign(s.workers, false);
  s.scored_through.assign(s.workers, s.start_step);
  if (s.data_ledger->selecting()) {
    const auto& plan = s.data_ledger->schedule();
    log::info("data selection: every epoch after the first trains on the ", plan.keptPerEpoch(), " of ",
              plan.numSamples(), " samples with the highest student entropy (training.data_selection.fraction ",
              cfg.training().data_selection().fraction(), ", ", plan.keptPerEpoch() / plan.globalBatch(),
              " steps an epoch)");
  }
  // A resume at the first step of an epoch not selected yet selects it now:
  // the checkpoint's scores cover every step before it.
  s.selectWhenScored();
  for (int w = 0; w < s.workers; ++w) s.sendAssignments(w);
  s.sendTeacherWork();

  // SIGUSR1 is what launch/distill-mpirun sends (mpirun forwards it to every
  // rank); SIGTERM and SIGINT come from srun or a direct launch.
  std::signal(SIGTERM, onStopSignal);
  std::signal(SIGINT, onStopSignal);
  std::signal(SIGUSR1, onStopSignal);
  while (!std::all_of(s.finished.begin(), s.finished.end(), [](bool f) { return f; })) {
    if (auto in = s.channel.receive(std::chrono::milliseconds(100))) s.handle(*in);
    if (const int sig = g_stop_signal.exchange(0)) s.requestStop(sig);
    const double now = clock::unixSeconds();
    for (int w = 0; w < s.workers; ++w) s.metrics->setWatchdog(w, s.watchdog->silentSeconds(w, now));
    if (auto stall = s.watchdog->check(now)) {
      s.abortJob(detail::concat(s.deadPeers(-1), stall->describe(), " (runtime.watchdog_seconds = ",
                                cfg.runtime().watchdog_seconds(), ")"));
    }
  }
  // Teacher ranks end once every worker has: nothing more will be asked of them.
  control::ControlMessage finish;
  finish.mutable_command()->set_kind(control::Command::FINISH);
  for (int p = 0; p < s.teacher_ranks; ++p) s.channel.send(s.workers + 1 + p, finish);
  // Checkpoint parts may still be arriving from the last step.
  while (s.committer->pending() ||
         !std::all_of(s.pool_finished.begin(), s.pool_finished.end(), [](bool f) { return f; })) {
    auto in = s.channel.receive(std::chrono::milliseconds(100));
    if (in) s.handle(*in);
    else if (auto stall = s.watchdog->check(clock::unixSeconds())) s.abortJob(s.deadPeers(-1) + stall->describe());
  }
  s.channel.flush(std::chrono::seconds(5));
  std::fputs(s.progress->finish().c_str(), stderr);
  if (s.stopping && s.stop_after < s.total_steps) {
    log::warn("stopped at step ", s.stop_after, " of ", s.total_steps, "; continue with --resume");
    return kExitStopped;
  }
  if (s.options.teacher_pass_only) {
    log::info("teacher pass of job ", cfg.name(), " done: ", teachers.cache_dirs.size(), " teacher cache(s) complete");
    return kExitOk;
  }
  log::info("job ", cfg.name(), " done: ", s.total_steps, " steps");
  return kExitOk;
}

}  // namespace distill::coordinator
