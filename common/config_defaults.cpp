// The defaults of every `optional` field of proto/config.proto, in one place.
// docs/config.md lists the same values; change both together.
#include <string>

#include "common/config_loader.h"

namespace distill::config {

// Sets field `name` of message `m` to `value` unless the config gave one.
#define DISTILL_DEFAULT(m, name, value) \
  do {                                  \
    if (!(m).has_##name()) (m).set_##name(value); \
  } while (0)

void applyDefaults(JobConfig& cfg) {
  if (cfg.name().empty()) cfg.set_name("job");
  if (cfg.run_dir().empty()) cfg.set_run_dir("runs/" + cfg.name());
  DISTILL_DEFAULT(cfg, seed, 1234);
  cfg.mutable_student();
  cfg.mutable_data();

  TrainingSpec& t = *cfg.mutable_training();
  DISTILL_DEFAULT(t, batch_size, 32);
  DISTILL_DEFAULT(t, epochs, 1);
  DISTILL_DEFAULT(t, max_steps, 0);
  DISTILL_DEFAULT(t, eval_every, 0);

  OptimizerSpec& o = *cfg.mutable_optimizer();
  DISTILL_DEFAULT(o, name, "adamw");
  DISTILL_DEFAULT(o, lr, 5e-4);
  DISTILL_DEFAULT(o, weight_decay, 0.01);
  DISTILL_DEFAULT(o, beta1, 0.9);
  DISTILL_DEFAULT(o, beta2, 0.999);
  DISTILL_DEFAULT(o, eps, 1e-8);
  DISTILL_DEFAULT(o, warmup_steps, 0);
  DISTILL_DEFAULT(o, decay, "linear");
  DISTILL_DEFAULT(o, min_lr_ratio, 0.0);
  DISTILL_DEFAULT(o, max_grad_norm, 1.0);

  DistillSpec& d = *cfg.mutable_distill();
  DISTILL_DEFAULT(d, combiner, "mean");
  const bool has_teachers = d.teachers_size() > 0;
  for (int i = 0; i < d.teachers_size(); ++i) {
    TeacherSpec& teacher = *d.mutable_teachers(i);
    if (teacher.name().empty()) teacher.set_name("teacher" + std::to_string(i));
    // With the `weights` combiner a missing weight is a mistake, reported by the checks,
    // not silently 1.0.
    if (d.combiner() != "weights") DISTILL_DEFAULT(teacher, weight, 1.0);
  }
  DISTILL_DEFAULT(d, temperature, 2.0);
  DISTILL_DEFAULT(d, task_weight, has_teachers ? 0.5 : 1.0);
  DISTILL_DEFAULT(d, kd_weight, has_teachers ? 0.5 : 0.0);
  DISTILL_DEFAULT(d, confidence_temperature, 1.0);

  SparsitySpec& s = *cfg.mutable_sparsity();
  DISTILL_DEFAULT(s, enabled, false);
  DISTILL_DEFAULT(s, criterion, "magnitude");
  DISTILL_DEFAULT(s, granularity, "unstructured");
  DISTILL_DEFAULT(s, scope, "global");
  DISTILL_DEFAULT(s, schedule, "cubic");
  DISTILL_DEFAULT(s, initial_sparsity, 0.0);
  DISTILL_DEFAULT(s, final_sparsity, 0.0);
  DISTILL_DEFAULT(s, warmup_steps, 0);
  DISTILL_DEFAULT(s, cooldown_steps, 0);
  DISTILL_DEFAULT(s, interval, 10);

  CheckpointSpec& c = *cfg.mutable_checkpoint();
  DISTILL_DEFAULT(c, every_steps, 0);
  DISTILL_DEFAULT(c, keep, 3);

  MetricsSpec& m = *cfg.mutable_metrics();
  DISTILL_DEFAULT(m, address, "127.0.0.1");
  DISTILL_DEFAULT(m, port, 9400);
  DISTILL_DEFAULT(m, report_every, 1);
  DISTILL_DEFAULT(m, progress_seconds, 5.0);

  RuntimeSpec& r = *cfg.mutable_runtime();
  DISTILL_DEFAULT(r, threads_per_worker, 1);
  DISTILL_DEFAULT(r, watchdog_seconds, 60.0);
  DISTILL_DEFAULT(r, collective_timeout_seconds, 120.0);
  DISTILL_DEFAULT(r, backend, "auto");
}

#undef DISTILL_DEFAULT

}  // namespace distill::config
