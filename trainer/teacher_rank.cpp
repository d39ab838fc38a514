#include "trainer/teacher_rank.h"

#include <deque>

#include <torch/cuda.h>
#include <torch/script.h>

#include "common/clock.h"
#include "common/dataset_manifest.h"
#include "common/error.h"
#include "common/log.h"
#include "control/mpi_channel.h"
#include "control/sender_stamp.h"
#include "trainer/comm/device.h"
#include "trainer/data/dataset.h"
#include "trainer/model/model_io.h"
#include "trainer/precision/precision_policy.h"
#include "trainer/teachers/top_k.h"
#include "trainer/teachers/top_k_message.h"

namespace distill::trainer {

struct TeacherRank::State {
  config::JobConfig config;
  control::Bootstrap boot;
  control::MpiChannel& channel;
  c10::Device device;
  std::string name;                          // "teacher rank 3"
  std::vector<uint32_t> held;                // indices into distill.teachers
  std::vector<torch::jit::Module> teachers;  // in held's order
  std::vector<int64_t> widths;               // each teacher's output width
  std::unique_ptr<data::ShardedDataset> train_data;
  std::deque<control::TeacherWork> queue;    // requests in the coordinator's (step) order
  bool finish = false;
  uint64_t step = 0;
  std::string phase = "startup";
  uint64_t batches_since_report = 0;
  double busy_since_report = 0;

  State(config::JobConfig c, control::Bootstrap b, control::MpiChannel& ch, const Placement& where)
      : config(std::move(c)),
        boot(std::move(b)),
        channel(ch),
        device(comm::workerDevice(where.local_worker)),
        name("teacher rank " + std::to_string(ch.rank())) {}

  void enter(uint64_t s, const std::string& p) {
    step = s;
    phase = p;
    control::ControlMessage m;
    m.mutable_progress()->set_step(s);
    m.mutable_progress()->set_phase(p);
    control::stampSender(*m.mutable_progress());
    channel.send(0, m);
  }
  void setUp();
  void handle(const control::Incoming& in);
  void serveStep();
};

TeacherRank::TeacherRank(config::JobConfig config, control::Bootstrap boot, control::MpiChannel& channel,
                         const Placement& where)
    : state_(std::make_unique<State>(std::move(config), std::move(boot), channel, where)) {}

TeacherRank::~TeacherRank() = default;

void TeacherRank::reportFailure(const std::string& message, bool input_error) {
  control::ControlMessage m;
  m.mutable_failure()->set_step(state_->step);
  m.mutable_failure()->set_phase(state_->phase);
  m.mutable_failure()->set_message(message);
  m.mutable_failure()->set_bad_input(input_error && state_->phase == "setup");
  state_->channel.send(0, m);
  state_->channel.flush(std::chrono::seconds(10));
}

// Loads this rank's teachers, checks each one's output width against the
// data (the student's width: the workers check the student against the same
// data), and converts them to the job's teacher precision.
void TeacherRank::State::setUp() {
  enter(step, "setup");
  const auto& cfg = config;
  at::set_num_threads(static_cast<int>(cfg.runtime().threads_per_worker()));
  for (const auto& rank : boot.pool()) {
    if (static_cast<int>(rank.rank()) == channel.rank()) held.assign(rank.teachers().begin(), rank.teachers().end());
  }
  DISTILL_CHECK(!held.empty(), name, ": the coordinator's plan gives this rank no teacher");
  const auto manifest = data::DatasetManifest::load(cfg.data().train());
  const bool classification = manifest.task == "classification";
  const int64_t expected = classification ? manifest.num_classes : manifest.vocab_size;
  train_data = std::make_unique<data::ShardedDataset>(data::ShardedDataset::open(cfg.data().train(), false));
  const auto precision = precision::makePrecisionPolicy(cfg.runtime().precision(), device);
  for (uint32_t k : held) {
    const auto& spec = cfg.distill().teachers(static_cast<int>(k));
    const std::string field = "distill.teachers[" + std::to_string(k) + "].path";
    const double started = clock::monotonicSeconds();
    torch::jit::Module teacher = model::loadModel(spec.path(), device);
    const int64_t width = model::outputClasses(teacher, manifest.seq_len, spec.path());
    const int64_t wanted = spec.classes_size() > 0 ? spec.classes_size() : expected;
    DISTILL_CHECK(width == wanted, field, ": teacher ", spec.name(), " (", spec.path(), ") has ", width, " outputs, ",
                  spec.classes_size() > 0 ? "its class map lists " : "the student and " + cfg.data().train() + " have ",
                  wanted);
    model::setLayerOutputs(teacher, false, false);
    precision->prepareTeacher(teacher);
    teacher.eval();
    teachers.push_back(std::move(teacher));
    widths.push_back(width);
    log::info(name, ": teacher '", spec.name(), "' loaded in ", clock::monotonicSeconds() - started, " s (",
              precision->name(), " on ", device.str(), ")");
  }
  enter(step, "idle");
}

void TeacherRank::State::handle(const control::Incoming& in) {
  const auto& m = in.message;
  DISTILL_CHECK(in.source == 0, name, ": unexpected control message from rank ", in.source);
  if (m.body_case() == control::ControlMessage::kTeacherRequests) {
    for (const auto& work : m.teacher_requests().work()) queue.push_back(work);
  } else if (m.body_case() == control::ControlMessage::kCommand &&
             m.command().kind() == control::Command::FINISH) {
    finish = true;
  } else if (m.body_case() != control::ControlMessage::kCommand) {  // STOP_AFTER is the workers' business
    DISTILL_FAIL(name, ": unexpected control message from the coordinator");
  }
}

// Every request of the step at the front of the queue: each teacher runs over
// all their samples together (every worker's batch: the batching a teacher
// server is for), in forwards of at most distill.pool.max_batch_samples, and
// each worker gets its rows. What a forward holds depends on the plan only,
// never on timing, so a job's results do not depend on how fast ranks run.
void TeacherRank::State::serveStep() {
  const uint64_t s = queue.front().step();
  std::vector<control::TeacherWork> work;
  while (!queue.empty() && queue.front().step() == s) {
    work.push_back(std::move(queue.front()));
    queue.pop_front();
  }
  enter(s, "teacher");
  const double started = clock::monotonicSeconds();
  for (size_t t = 0; t < held.size(); ++t) {
    std::vector<uint64_t> ids;
    std::vector<size_t> mine;  // the requests that ask for this teacher
    for (size_t w = 0; w < work.size(); ++w) {
      const auto& asked = work[w].teachers();
      if (std::find(asked.begin(), asked.end(), held[t]) == asked.end()) continue;
      mine.push_back(w);
      ids.insert(ids.end(), work[w].samples().begin(), work[w].samples().end());
    }
    if (ids.empty()) continue;
    const double teacher_started = clock::monotonicSeconds();
    teachers::TopK top;
    {
      c10::InferenceMode inference;
      const auto most = static_cast<size_t>(std::max<uint32_t>(config.distill().pool().max_batch_samples(), 1));
      std::vector<teachers::TopK> parts;
      for (size_t begin = 0; begin < ids.size(); begin += most) {
        const std::vector<uint64_t> part(ids.begin() + static_cast<long>(begin),
                                         ids.begin() + static_cast<long>(std::min(ids.size(), begin + most)));
        const data::Batch batch = train_data->gather(part).to(device);
        const auto out = model::runModel(teachers[t], batch.input_ids, batch.attention_mask,
                                         "teacher '" + config.distill().teachers(static_cast<int>(held[t])).name() + "'");
        const teachers::TopK full = teachers::topK(out.logits, config.distill().pool().top_k());
        parts.push_back({full.log_probs.cpu(), full.indices.cpu(), full.residual.cpu()});
        enter(s, "teacher");  // a heartbeat per forward
      }
      std::vector<torch::Tensor> lp, ix, rs;
      for (const auto& p : parts) {
        lp.push_back(p.log_probs);
        ix.push_back(p.indices);
        rs.push_back(p.residual);
      }
      top = {torch::cat(lp), torch::cat(ix), torch::cat(rs)};
    }
    const double seconds = clock::monotonicSeconds() - teacher_started;
    int64_t row = 0;
    for (size_t w : mine) {
      const auto n = static_cast<int64_t>(work[w].samples_size());
      const teachers::TopK rows{top.log_probs.narrow(0, row, n), top.indices.narrow(0, row, n),
                                top.residual.narrow(0, row, n)};
      control::ControlMessage message;
      *message.mutable_teacher_output() = teachers::encodeTopK(rows, widths[t]);
      auto* out = message.mutable_teacher_output();
      out->set_step(s);
      out->set_teacher(held[t]);
      *out->mutable_samples() = work[w].samples();
      out->set_seconds(seconds * static_cast<double>(n) / static_cast<double>(ids.size()));
      channel.send(static_cast<int>(work[w].worker()) + 1, message);
      row += n;
    }
    ++batches_since_report;
  }
  busy_since_report += clock::monotonicSeconds() - started;
  control::ControlMessage report;
  report.mutable_pool_report()->set_batches(std::exchange(batches_since_report, 0));
  report.mutable_pool_report()->set_busy_seconds(std::exchange(busy_since_report, 0.0));
  channel.send(0, report);
  enter(s, "idle");
}

void TeacherRank::run() {
  State& s = *state_;
  s.setUp();
  double heartbeat = clock::monotonicSeconds();
  while (!(s.finish && s.queue.empty())) {
    while (auto in = s.channel.poll()) s.handle(*in);
    if (!s.queue.empty()) {
      s.serveStep();
      heartbeat = clock::monotonicSeconds();
      continue;
    }
    if (s.finish) break;
    if (auto in = s.channel.receive(std::chrono::milliseconds(200))) s.handle(*in);
    if (clock::monotonicSeconds() - heartbeat > 1.0) {  // idle, and alive: the watchdog hears it
      s.enter(s.step, "idle");
      heartbeat = clock::monotonicSeconds();
    }
  }
  control::ControlMessage done;
  done.mutable_finished()->set_step(s.step);
  s.channel.send(0, done);
  DISTILL_CHECK(s.channel.flush(std::chrono::seconds(60)), s.name, ": the workers did not take its last outputs");
}

}  // namespace distill::trainer
