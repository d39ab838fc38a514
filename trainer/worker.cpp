#include "trainer/worker.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <torch/script.h>
#include <torch/torch.h>

#include "common/checkpoint_layout.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "common/teacher_cache_layout.h"
#include "trainer/checkpoint/checkpoint_io.h"
#include "trainer/comm/device.h"
#include "trainer/comm/gradient_sync.h"
#include "trainer/comm/worker_group.h"
#include "trainer/control_link.h"
#include "trainer/data/dataset.h"
#include "trainer/distill/combiner.h"
#include "trainer/distill/distill_term.h"
#include "trainer/distill/intermediate_loss.h"
#include "trainer/distill/snapshot_teachers.h"
#include "trainer/evaluate.h"
#include "trainer/model/activation_checkpointing.h"
#include "trainer/model/model_io.h"
#include "trainer/model_checks.h"
#include "trainer/non_finite.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/grad_clip.h"
#include "trainer/optim/lr_schedule.h"
#include "trainer/precision/precision_policy.h"
#include "trainer/rows.h"
#include "trainer/sparsity/mask_set.h"
#include "trainer/sparsity/pruner.h"
#include "trainer/sparsity/sparsity_levels.h"
#include "trainer/sparsity/structure_groups.h"
#include "trainer/step_loss.h"
#include "trainer/teachers/cache_pass.h"
#include "trainer/teachers/teacher_cache.h"
#include "trainer/teachers/teacher_source.h"

namespace distill::trainer {
namespace fs = std::filesystem;

struct Worker::State {
  config::JobConfig config;
  control::Bootstrap boot;
  ControlLink link;
  int worker;
  bool single_node;
  c10::Device device;

  std::unique_ptr<comm::WorkerGroup> group;
  std::unique_ptr<precision::PrecisionPolicy> precision;  // runtime.precision
  std::unique_ptr<comm::GradientSync> sync;                // runtime.gradient_bucket_mb, runtime.zero_stage
  int64_t micro_batches = 1;                               // training.gradient_accumulation
  bool checkpoint_activations = false;                     // runtime.activation_checkpointing
  bool gradients_masked = false;                           // the sync applies the weight masks to gradients
  std::unique_ptr<data::ShardedDataset> train_data;
  std::unique_ptr<data::ShardedDataset> eval_data;  // null without data.eval
  torch::jit::Module student;
  std::vector<torch::jit::Module> teachers;        // loaded here (placement replicate, or cache for its pass)
  std::unique_ptr<distill::teachers::TeacherSource> teacher_source;  // where training gets the teachers' outputs
  std::vector<std::string> teacher_names;          // distill.teachers[k].name, for errors
  std::vector<double> teacher_seconds_since_report;  // per teacher, summed over the steps since the report
  uint64_t steps_since_report = 0;
  std::vector<sparsity::NamedTensor> params;       // the student's
  kd::Projections projections;                     // distill.terms' learned projections
  std::vector<sparsity::NamedTensor> trained;      // params, then the projections: what AdamW updates
  std::unique_ptr<optim::AdamW> optimizer;
  std::unique_ptr<optim::LearningRateSchedule> lr_schedule;
  std::unique_ptr<kd::TeacherCombiner> combiner;
  std::unique_ptr<kd::SnapshotTeachers> snapshots;  // distill.snapshot_teachers (CAP); null when 0
  std::unique_ptr<sparsity::Pruner> pruner;  // null without weight or gradient masks
  sparsity::MaskSet* masks = nullptr;         // pruner's weight masks; null when sparsity is off
  std::string student_module;  // the architecture file checkpoints refer to
  uint64_t step = 0;           // optimizer steps done
  bool report_scores = false;  // training.data_selection: per-sample entropies go to the coordinator
  std::unique_ptr<std::ofstream> sample_trace;  // DISTILL_TRACE_SAMPLES test hook (docs/testing.md)
  uint64_t samples_since_report = 0;
  uint64_t tokens_since_report = 0;
  uint64_t mask_changes_since_report = 0;
  bool densities_due = true;  // the first report and those after a mask update carry per-layer densities

  State(config::JobConfig c, control::Bootstrap b, control::MpiChannel& channel, const Placement& where)
      : config(std::move(c)),
        boot(std::move(b)),
        link(channel, where.worker),
        worker(where.worker),
        single_node(where.single_node),
        device(comm::workerDevice(where.local_worker)) {}

  void setUp();
  void prepareTeachers();
  void trainStep(uint64_t step, const std::vector<uint64_t>& samples);
  void afterMaskUpdate(uint64_t step, const sparsity::MaskUpdate& update);
  void verifyMasksAgree(uint64_t step);
  uint64_t checkpoint(uint64_t step);
  void evaluateAndReport(uint64_t step);
  void sendScores(uint64_t step, const std::vector<uint64_t>& samples, const torch::Tensor& entropy);
  double logitDenominator(const data::Batch& batch);
  checkpoint::TrainerCheckpoint checkpointState(uint64_t step);
};

Worker::Worker(config::JobConfig config, control::Bootstrap boot, control::MpiChannel& channel, const Placement& where)
    : state_(std::make_unique<State>(std::move(config), std::move(boot), channel, where)) {}

Worker::~Worker() = default;

void Worker::reportFailure(const std::string& message, bool input_error) {
  state_->link.failure(state_->step, message, input_error);
  state_->link.flush();
}

void Worker::State::setUp() {
  link.enter(step, "setup");
  const auto& cfg = config;
  at::set_num_threads(static_cast<int>(cfg.runtime().threads_per_worker()));
  torch::manual_seed(cfg.seed() + static_cast<uint64_t>(worker));  // dropout differs per worker, like DDP

  precision = precision::makePrecisionPolicy(cfg.runtime().precision(), device);
  micro_batches = cfg.training().gradient_accumulation();

  const double loading = clock::monotonicSeconds();
  if (worker == 0) {
    log::info("worker 0: loading the student",
              boot.placement() == "pool" ? std::string(" (the teacher ranks load the teachers)")
                                         : " and " + std::to_string(cfg.distill().teachers_size()) + " teacher(s)");
  }
  JobModels models;
  // Placement cache: teachers stay on the CPU; the pass moves one at a time to the device.
  // Placement pool: the teacher ranks load them, the workers do not.
  const bool cached = boot.placement() == "cache";
  const auto problems = checkModelsAndData(cfg, &models, /*progress=*/worker == 0, device,
                                           cached ? c10::Device(c10::DeviceType::CPU) : device,
                                           /*load_teachers=*/boot.placement() != "pool");
  DISTILL_CHECK(problems.empty(), problems.front());
  if (worker == 0) log::info("worker 0: models loaded and checked in ", clock::monotonicSeconds() - loading, " s");
  // The coordinator verified the shard checksums before the job started.
  train_data = std::make_unique<data::ShardedDataset>(data::ShardedDataset::open(cfg.data().train(), false));
  if (!cfg.data().eval().empty()) {
    eval_data = std::make_unique<data::ShardedDataset>(data::ShardedDataset::open(cfg.data().eval(), false));
  }

  // The student's architecture is copied into the run directory, so checkpoints
  // and exports do not depend on the original file staying where it was.
  // Checkpoints name it relative to the run directory, which may be moved.
  student_module = "student_module.pt";
  if (worker == 0 && boot.resume_from().empty()) {
    fs::copy_file(cfg.student().path(), fs::path(cfg.run_dir()) / student_module, fs::copy_options::overwrite_existing);
  }
  student = std::move(models.student);
  student.to(device);
  student.train();
  params = model::namedParameters(student);
  checkpoint_activations = cfg.runtime().activation_checkpointing();
  DISTILL_CHECK(!checkpoint_activations || model::supportsActivationCheckpointing(student),
                "runtime.activation_checkpointing: the student ", cfg.student().path(),
                " is not a built-in architecture of this version (distill init-model); turn it off for this student");
  for (auto& p : params) p.tensor.requires_grad_(true);

  teachers = std::move(models.teachers);
  // Models return only the layer outputs some loss term reads (the checks above saw them all).
  bool reads_hidden = false, reads_attentions = false;
  for (const auto& term : cfg.distill().terms()) {
    (kd::findTerm(term.kind(), "distill.terms").reads_attentions ? reads_attentions : reads_hidden) = true;
  }
  const bool snapshots_on = cfg.distill().snapshot_teachers() > 0;  // they compare last hidden layers
  model::setLayerOutputs(student, reads_hidden || snapshots_on, reads_attentions);
  for (auto& teacher : teachers) {
    model::setLayerOutputs(teacher, reads_hidden, reads_attentions);
    if (!cached) teacher.to(device);
    precision->prepareTeacher(teacher);  // bf16: converted once, here
    teacher.eval();
    for (auto& p : model::namedParameters(teacher)) p.tensor.requires_grad_(false);
  }
  combiner = kd::makeCombiner(cfg.distill());
  // CAP: the student as it starts is the first snapshot teacher (a resume loads the checkpoint's).
  if (snapshots_on) snapshots = std::make_unique<kd::SnapshotTeachers>(cfg.distill(), student, *precision);
  // Projections are trained like the student's parameters (one AdamW, one
  // all-reduce, one clipping norm) but are not part of the model.
  projections = kd::createProjections(cfg.distill(), models.student_shape, models.teacher_shapes, cfg.seed(), device);
  trained = params;
  for (const auto& [name, w] : projections) trained.push_back({name, w});
  report_scores = cfg.training().data_selection().fraction() > 0;
  if (const char* trace = std::getenv("DISTILL_TRACE_SAMPLES")) {
    fs::create_directories(trace);
    sample_trace = std::make_unique<std::ofstream>(fs::path(trace) / ("worker-" + std::to_string(worker) + ".txt"),
                                                   std::ios::app);
  }

  lr_schedule = std::make_unique<optim::LearningRateSchedule>(cfg.optimizer(), static_cast<int64_t>(boot.total_steps()));

  if (cfg.sparsity().enabled() || !cfg.sparsity().gradient_mask().kind().empty()) {
    pruner = std::make_unique<sparsity::Pruner>(params, cfg.sparsity(), sparsity::modelGroups(student, cfg.sparsity()),
                                                static_cast<int64_t>(boot.total_steps()), cfg.seed());
    masks = pruner->masks();
  }

  link.enter(step, "rendezvous");
  comm::GroupOptions group_options;
  group_options.store_host = boot.store_host();
  group_options.store_port = static_cast<uint16_t>(boot.store_port());
  group_options.rank = worker;
  group_options.size = static_cast<int>(boot.num_workers());
  group_options.backend = cfg.runtime().backend();
  group_options.single_node = single_node;
  group_options.timeout = std::chrono::milliseconds(
      static_cast<int64_t>(cfg.runtime().collective_timeout_seconds() * 1000));
  group = comm::WorkerGroup::connect(group_options);

  comm::GradientSyncOptions sync_options;
  sync_options.bucket_mb = cfg.runtime().gradient_bucket_mb();
  sync_options.zero_stage = static_cast<int>(cfg.runtime().zero_stage());
  sync_options.masks = pruner ? pruner->gradientMasks() : nullptr;
  gradients_masked = sync_options.masks != nullptr;
  if (group->size() > 1 && (sync_options.bucket_mb > 0 || sync_options.zero_stage == 2)) {
    // The Reducer (and ZeRO-2) waits for every parameter it holds: leave out any no output depends on.
    const data::Batch probe = train_data->gather({0}).to(device);
    sync_options.receives_gradient = model::receivesGradient(student, params, probe.input_ids, probe.attention_mask);
    sync_options.receives_gradient.resize(trained.size(), true);  // projections: each exists for a mapped layer
  }
  sync = comm::makeGradientSync(*group, trained, sync_options);
  optimizer = std::make_unique<optim::AdamW>(sync->ownedParameters(), optim::adamwOptions(cfg.optimizer()));
  if (worker == 0) {
    log::info("worker 0: ", precision->name(), " precision on ", device.str(), ", ", group->backend(),
              " group, gradients: ", sync->describe(),
              micro_batches > 1 ? ", " + std::to_string(micro_batches) + " micro-batches per step" : "",
              "; AdamW state on this worker: ", optimizer->stateBytes(), " bytes");
  }

  if (!boot.resume_from().empty()) {
    link.enter(step, "resume");
    checkpoint::TrainerCheckpoint ckpt = checkpointState(0);
    checkpoint::readCheckpoint(boot.resume_from(), worker, ckpt);
    step = ckpt.step;
    DISTILL_CHECK(step == boot.start_step(), boot.resume_from(), ": trainer state is at step ", step,
                  ", the coordinator's ledger at step ", boot.start_step());
  } else if (pruner) {
    link.enter(step, "masks");
    afterMaskUpdate(0, pruner->start());  // schedules that prune before the first step
  }
}

// One optimizer step, in the order of DESIGN.md section 3. With gradient
// accumulation the batch runs as micro-batches whose gradients add up; the
// workers communicate once, during the last micro-batch's backward.
void Worker::State::trainStep(uint64_t s, const std::vector<uint64_t>& samples) {
  const auto& kd_spec = config.distill();
  const double started = clock::monotonicSeconds();

  const data::Batch batch = train_data->gather(samples).to(device);

  if (sample_trace) {
    *sample_trace << s << ' ' << link.epoch();
    for (uint64_t id : samples) *sample_trace << ' ' << id;
    *sample_trace << std::endl;
  }
  const config::DistillSpec spec_now =
      kd::specAtStep(kd_spec, static_cast<int64_t>(s), static_cast<int64_t>(boot.total_steps()));
  optim::zeroGradients(trained);
  sync->beforeForward();
  if (pruner) pruner->beforeForward(static_cast<int64_t>(s));  // sparsity.levels: the level this step trains
  const double denominator = logitDenominator(batch);
  kd::LossValues loss;
  double snapshot_loss = 0;
  std::vector<torch::Tensor> entropies;
  const int64_t micro_size = batch.input_ids.size(0) / micro_batches;
  for (int64_t m = 0; m < micro_batches; ++m) {
    const data::Batch micro = micro_batches == 1 ? batch : batch.rows(m * micro_size, micro_size);

    link.enter(s, "teachers");
    const kd::TeacherOutputs teacher_out = teacher_source->outputs(s, samples, micro, m * micro_size);
    checkTeacherOutputs(teacher_out, teacher_names, s + 1);
    const auto snapshot_reps = snapshots ? snapshots->represent(micro) : std::vector<torch::Tensor>{};

    link.enter(s, "forward");
    model::ModelOutputs out;
    {
      const auto region = precision->studentRegion();
      out = checkpoint_activations ? model::runCheckpointed(student, micro.input_ids, micro.attention_mask, "student")
                                   : model::runModel(student, micro.input_ids, micro.attention_mask, "student");
    }
    kd::StepLoss step_loss = kd::stepLoss(out, micro, teacher_out, spec_now, combiner.get(), projections, denominator);
    if (snapshots) {  // CAP: the contrastive term against the student's own snapshots
      const torch::Tensor snapshot_term = snapshots->loss(out, micro, snapshot_reps);
      step_loss.total = step_loss.total + snapshot_term;
      snapshot_loss += snapshot_term.item<double>() / static_cast<double>(micro_batches);
    }
    teacher_seconds_since_report.resize(teacher_out.seconds.size(), 0.0);
    for (size_t k = 0; k < teacher_out.seconds.size(); ++k) teacher_seconds_since_report[k] += teacher_out.seconds[k];
    loss.add(step_loss, 1.0 / static_cast<double>(micro_batches));
    checkStepLoss(step_loss, s + 1);
    if (report_scores) entropies.push_back(kd::sampleEntropy(out.logits, micro.labels));

    link.enter(s, "backward");
    sync->backward(precision->scaleLoss(step_loss.total / static_cast<double>(micro_batches)),
                   /*reduces=*/m == micro_batches - 1);
  }
  if (report_scores) sendScores(s, samples, torch::cat(entropies));

  link.enter(s, "allreduce");
  sync->reduce();  // buckets launched during backward; waits for the last ones
  // fp16: false on overflow; the optimizer skips the step, sparsity still sees it (zero gradients).
  const bool finite = precision->unscaleGradients(trained);
  if (!finite) optim::zeroGradients(trained);
  if (pruner) pruner->afterAllReduce();

  link.enter(s, "optimizer");
  samples_since_report += static_cast<uint64_t>(batch.input_ids.size(0));
  ++steps_since_report;
  tokens_since_report += static_cast<uint64_t>(batch.attention_mask.sum().item<int64_t>());
  // Child-Tuning's gradient mask (and its 1/p rescale) before the clip: max_grad_norm bounds what AdamW sees.
  if (finite && pruner) pruner->beforeOptimizer(static_cast<int64_t>(s));
  const double grad_norm = finite ? sync->clipGradNorm(trained, config.optimizer().max_grad_norm()) : NAN;
  if (finite) checkGradientNorm(grad_norm, trained, s + 1);  // never a NaN into AdamW
  const double lr = lr_schedule->at(static_cast<int64_t>(s));
  if (finite) {
    optimizer->step(lr, masks, gradients_masked);
    sync->afterOptimizer();  // ZeRO: owners send their updated parameters
  } else {
    log::warn("worker ", worker, ": step ", s + 1, " skipped: fp16 gradients overflowed, loss scale now ",
              precision->lossScale());
  }
  step = s + 1;
  if (pruner) {
    link.enter(s, "masks");
    afterMaskUpdate(step, pruner->afterOptimizer(static_cast<int64_t>(step), lr));
  }

  if (step % std::max<uint32_t>(config.metrics().report_every(), 1) == 0 || step == boot.total_steps()) {
    link.enter(s, "report");
    control::ControlMessage message;
    auto* r = message.mutable_report();
    r->set_step(step);
    r->set_epoch(link.epoch());
    (*r->mutable_losses())["total"] = loss.total;
    (*r->mutable_losses())["task"] = loss.task;
    (*r->mutable_losses())["kd"] = loss.kd;
    for (const auto& term : loss.terms) (*r->mutable_losses())[term.name] = term.value;
    if (snapshots) (*r->mutable_losses())["snapshots"] = snapshot_loss;
    for (size_t k = 0; k < loss.teacher_kl.size(); ++k) {
      auto* t = r->add_teachers();
      t->set_name(kd_spec.teachers(static_cast<int>(k)).name());
      t->set_kl(loss.teacher_kl[k]);
      t->set_weight(loss.teacher_weight[k]);
      if (k < teacher_seconds_since_report.size()) {
        t->set_seconds(teacher_seconds_since_report[k] / static_cast<double>(std::max<uint64_t>(steps_since_report, 1)));
      }
      for (const auto& term : loss.terms) (*t->mutable_terms())[term.name] = term.per_teacher[k];
    }
    // Counts since the previous report, so the _total counters are right for any report_every.
    r->set_samples(std::exchange(samples_since_report, 0));
    r->set_tokens(std::exchange(tokens_since_report, 0));
    r->set_cached_samples(teacher_source->takeCachedSamples());
    teacher_seconds_since_report.assign(teacher_seconds_since_report.size(), 0.0);
    steps_since_report = 0;
    r->set_step_seconds(clock::monotonicSeconds() - started);
    for (const auto& [phase, seconds] : link.takePhaseSeconds()) (*r->mutable_phase_seconds())[phase] = seconds;
    r->set_learning_rate(lr);
    r->set_grad_norm(grad_norm);
    r->set_optimizer_bytes(static_cast<uint64_t>(optimizer->stateBytes()));
    if (pruner) {
      r->set_sparsity_target(pruner->target(static_cast<int64_t>(step)));
      r->set_sparsity_actual(pruner->actual());
      r->set_mask_changes(std::exchange(mask_changes_since_report, 0));
      r->set_score_bytes(static_cast<uint64_t>(pruner->stateBytes()));
      r->set_criterion_trainable(static_cast<uint64_t>(pruner->trainableCount()));
      if (masks && std::exchange(densities_due, false)) {
        const auto names = masks->names();
        const auto densities = masks->densities();
        for (size_t i = 0; i < names.size(); ++i) (*r->mutable_layer_density())[names[i]] = densities[i];
      }
    }
    link.send(message);
  }
}

void Worker::State::afterMaskUpdate(uint64_t s, const sparsity::MaskUpdate& update) {
  if (!update.updated) return;
  if (snapshots) snapshots->take(student, s);  // CAP: the student just pruned is a teacher from now on
  mask_changes_since_report += static_cast<uint64_t>(update.changed);
  densities_due = true;
  verifyMasksAgree(s);
}

// Masks are shared state: every worker must have derived the same ones. The
// checksums' element-wise min and max over workers differ exactly where some
// worker disagrees, and the first such mask is named.
void Worker::State::verifyMasksAgree(uint64_t s) {
  const char* fault = std::getenv("DISTILL_FAULT_MASK_MISMATCH");  // test hook, docs/testing.md
  if (fault && std::stoi(fault) == worker) {
    torch::NoGradGuard no_grad;
    auto& m = masks->masks().front().tensor;
    m.view({-1})[0] = 1.0 - m.view({-1})[0].item<double>();
  }
  auto sums = masks->checksums();
  auto names = masks->names();
  if (const sparsity::SparsityLevels* levels = pruner->levels()) {
    const auto level_sums = levels->checksums();
    sums.insert(sums.end(), level_sums.begin(), level_sums.end());
    for (const auto& t : levels->state()) names.push_back(t.name);
  }
  torch::Tensor low = torch::tensor(std::vector<int64_t>(sums.begin(), sums.end()), torch::kInt64);
  torch::Tensor high = low.clone();
  group->allreduce(low, comm::Reduce::Min);
  group->allreduce(high, comm::Reduce::Max);
  for (size_t i = 0; i < names.size(); ++i) {
    DISTILL_CHECK(low[static_cast<int64_t>(i)].item<int64_t>() == high[static_cast<int64_t>(i)].item<int64_t>(),
                  "mask mismatch across workers after the mask update at step ", s, " on parameter \"", names[i],
                  "\" (checksum here ", sums[i], "): workers derived different masks");
  }
}

uint64_t Worker::State::checkpoint(uint64_t s) {
  link.enter(s, "checkpoint");
  const std::string dir = checkpoint_layout::stagingDir(config.run_dir(), s);
  checkpoint::writeCheckpoint(dir, worker, checkpointState(s));
  control::ControlMessage message;
  message.mutable_checkpoint_written()->set_step(s);
  message.mutable_checkpoint_written()->set_staging_dir(dir);
  link.send(message);
  return s;
}

checkpoint::TrainerCheckpoint Worker::State::checkpointState(uint64_t s) {
  checkpoint::TrainerCheckpoint ckpt{params, optimizer.get(), pruner.get(), s, student_module, config.seed()};
  ckpt.sharded_optimizer = config.runtime().zero_stage() >= 1;
  ckpt.device = device;
  ckpt.projections.assign(trained.begin() + static_cast<long>(params.size()), trained.end());
  ckpt.snapshots = snapshots.get();
  return ckpt;
}

// What the logit means of each micro-batch divide by: the labelled rows (tokens
// for language models) of the whole step on every worker, over workers x
// micro-batches. After the gradient average each row then weighs the same,
// however the padding falls, so N workers give the 1-worker gradient.
double Worker::State::logitDenominator(const data::Batch& batch) {
  torch::Tensor rows = torch::full({1}, static_cast<double>(kd::countedRows(batch)),
                                   torch::TensorOptions().dtype(torch::kDouble).device(device));
  group->allreduce(rows, comm::Reduce::Sum);
  return std::max(rows.item<double>(), 1.0) / static_cast<double>(group->size() * micro_batches);
}

// Where training gets the teachers' outputs, by the coordinator's plan
// (coordinator/teacher_plan.h). Placement "cache": this worker's share of the
// teacher pass, then every cache opened and the live teachers released.
// Workers wait for each other on the files themselves: the pass may take far
// longer than a collective's timeout.
void Worker::State::prepareTeachers() {
  for (const auto& t : config.distill().teachers()) teacher_names.push_back(t.name());
  if (boot.placement() == "pool") {
    // The teacher ranks may still be loading their teachers when the first step
    // waits: the coordinator's allowance for slow phases, plus a watchdog period.
    const auto& rt = config.runtime();
    double teacher_gb = 0;
    std::error_code ec;
    for (const auto& t : config.distill().teachers()) {
      const auto bytes = fs::file_size(t.path(), ec);
      if (!ec) teacher_gb += static_cast<double>(bytes) / 1e9;
    }
    const double timeout = std::max(rt.watchdog_seconds(), rt.collective_timeout_seconds()) + rt.setup_seconds() +
                           rt.setup_seconds_per_gb() * teacher_gb + rt.watchdog_seconds();
    teacher_source = distill::teachers::pooledTeachers(link, config.distill().teachers_size(), device, timeout);
    return;
  }
  if (boot.placement() != "cache") {
    teacher_source = distill::teachers::liveTeachers(std::move(teachers), config.distill(),
                                                     combiner ? combiner->stochasticPasses() : 1);
    return;
  }
  const auto& manifest = train_data->manifest();
  const auto& spec = config.distill();
  std::set<uint32_t> computed;  // teachers with shards in this pass
  for (const auto& work : boot.cache_work()) {
    computed.insert(work.teacher());
    if (static_cast<int>(work.worker()) != worker) continue;
    link.enter(step, "teacher-pass");
    const std::string& name = spec.teachers(static_cast<int>(work.teacher())).name();
    distill::teachers::cacheShard(teachers[work.teacher()], name, *train_data, work.shard(), spec.cache().top_k(),
                         config.training().batch_size(), device, boot.cache_dirs(static_cast<int>(work.teacher())));
    if (worker == 0) log::info("teacher pass: teacher '", name, "', shard ", work.shard(), " cached");
  }
  auto heartbeat = [this] { link.enter(step, "teacher-pass"); };
  std::vector<std::string> shards, manifests;
  for (uint32_t t : computed) {
    const std::string& dir = boot.cache_dirs(static_cast<int>(t));
    for (size_t i = 0; i < manifest.shards.size(); ++i) shards.push_back(dir + "/" + teacher_cache::shardFile(i));
    manifests.push_back(dir + "/" + teacher_cache::kManifestFile);
  }
  distill::teachers::waitForFiles(shards, heartbeat);  // other workers' progress is the watchdog's to judge
  if (worker == 0) {
    for (uint32_t t : computed) {
      const auto& k = boot.cache_keys(static_cast<int>(t));
      const teacher_cache::Key key{k.teacher(), k.teacher_sha256(), k.dataset_sha256(), k.top_k()};
      const std::string& dir = boot.cache_dirs(static_cast<int>(t));
      teacher_cache::writeManifest(dir, key, manifest, distill::teachers::shardVocab(dir, 0));
    }
  }
  distill::teachers::waitForFiles(manifests, heartbeat);
  if (worker == 0 && !boot.cache_work().empty()) {
    fs::remove(boot.cache_dirs(0) + "/.visible-" + std::to_string(boot.store_port()));
  }
  std::vector<distill::teachers::TeacherCache> caches;
  for (const auto& dir : boot.cache_dirs()) caches.push_back(distill::teachers::TeacherCache::open(dir, manifest));
  teachers.clear();  // training reads the caches: the teachers' memory goes back
  if (worker == 0) {
    log::info("worker 0: teachers from their caches (k ", caches.front().topK(), ", ",
              caches.front().bytesPerPosition(), " bytes per token per teacher)");
  }
  teacher_source = distill::teachers::cachedTeachers(std::move(caches), device);
}

// Data selection: the student's entropy on each sample of this step, for the
// coordinator to rank at the end of the epoch (coordinator/data_selection.h).
void Worker::State::sendScores(uint64_t s, const std::vector<uint64_t>& samples, const torch::Tensor& entropy) {
  DISTILL_ASSERT(entropy.numel() == static_cast<int64_t>(samples.size()));
  control::ControlMessage message;
  auto* scores = message.mutable_scores();
  scores->set_step(s);
  const torch::Tensor h = entropy.contiguous();
  const float* v = h.data_ptr<float>();
  for (size_t i = 0; i < samples.size(); ++i) {
    scores->add_samples(samples[i]);
    scores->add_entropy(v[i]);
  }
  link.send(message);
}

// Each worker evaluates a strided part of the eval set; totals are summed over
// workers. With sparsity.levels the student is evaluated at every level.
void Worker::State::evaluateAndReport(uint64_t s) {
  if (!eval_data) return;
  link.enter(s, "eval");
  const auto ids = evalShard(eval_data->manifest().num_samples, worker, static_cast<int>(boot.num_workers()));
  auto evaluateHere = [&] {
    const EvalTotals t = evaluate(student, *eval_data, ids, config.training().batch_size(), "student");
    torch::Tensor totals = torch::tensor({t.correct, t.loss_sum, t.rows, t.loss_rows}, torch::kFloat64);
    group->allreduce(totals, comm::Reduce::Sum);
    return EvalTotals{totals[0].item<double>(), totals[1].item<double>(), totals[2].item<double>(),
                      totals[3].item<double>()};
  };
  const EvalTotals sum = evaluateHere();
  control::ControlMessage message;
  auto* e = message.mutable_eval();
  e->set_step(s);
  e->set_accuracy(sum.accuracy());
  e->set_loss(sum.loss());
  e->set_samples(static_cast<uint64_t>(sum.rows));
  if (sparsity::SparsityLevels* levels = pruner ? pruner->levels() : nullptr) {
    for (size_t i = 0; i < levels->size(); ++i) {
      EvalTotals at_level = sum;
      if (i > 0) {
        sparsity::EnteredLevel entered(*levels, i);
        at_level = evaluateHere();
      }
      auto* l = e->add_levels();
      l->set_sparsity(levels->level(i));
      l->set_accuracy(at_level.accuracy());
      l->set_loss(at_level.loss());
    }
  }
  if (worker == 0) link.send(message);
}

void Worker::run() {
  State& s = *state_;
  s.step = s.boot.start_step();
  s.setUp();
  s.prepareTeachers();
  const auto& cfg = s.config;
  const uint64_t every = cfg.checkpoint().every_steps();
  const uint64_t eval_every = cfg.training().eval_every();
  uint64_t checkpointed = s.step;
  while (s.step < s.boot.total_steps()) {
    s.link.takePhaseSeconds();  // the report carries this step's phases only
    s.link.enter(s.step, "data");
    const auto samples = s.link.batch(s.step);
    if (!samples) break;  // the coordinator stopped the job (preemption)
    s.trainStep(s.step, *samples);
    if (every > 0 && s.step % every == 0) checkpointed = s.checkpoint(s.step);
    if ((eval_every > 0 && s.step % eval_every == 0) || s.step == s.boot.total_steps()) s.evaluateAndReport(s.step);
  }
  // The last step is always checkpointed, whether the job ended or was stopped.
  if (checkpointed != s.step) s.checkpoint(s.step);
  s.link.enter(s.step, "finished");
  control::ControlMessage done;
  done.mutable_finished()->set_step(s.step);
  s.link.send(done);
  DISTILL_CHECK(s.link.flush(), "worker ", s.worker, ": the coordinator did not take the final messages");
}

}  // namespace distill::trainer
