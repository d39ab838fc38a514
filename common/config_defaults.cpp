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

namespace {

// Intermediate terms: the name is the kind, the layers follow the kind, and
// the options of one kind are set on that kind only.
void applyDistillTermDefaults(DistillSpec& d) {
  for (DistillTerm& term : *d.mutable_terms()) {
    const std::string& kind = term.kind();
    DISTILL_DEFAULT(term, name, kind);
    DISTILL_DEFAULT(term, weight, 1.0);
    if (!term.has_layers()) {
      if (kind == "embedding_mse") {
        term.set_layers("embeddings");
      } else if (term.layer_map_size() > 0) {
        term.set_layers("explicit");
      } else {
        term.set_layers(kind == "cka" || kind == "infonce" || kind == "cosine" ? "last" : "uniform");
      }
    }
    if (kind == "attention_mse") DISTILL_DEFAULT(term, attention_heads, "average");
    if (kind == "infonce") DISTILL_DEFAULT(term, temperature, 0.1);
  }
}

// `written`: the schedule was in the config, to change the value, so it is
// linear unless it says otherwise; one left out keeps `base` throughout.
void applyScheduleDefaults(bool written, double base, ValueSchedule& schedule) {
  DISTILL_DEFAULT(schedule, shape, written ? "linear" : "constant");
  DISTILL_DEFAULT(schedule, end, base);
}

}  // namespace

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
  DISTILL_DEFAULT(t, gradient_accumulation, 1);
  DISTILL_DEFAULT(*t.mutable_data_selection(), fraction, 0.0);

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
  DISTILL_DEFAULT(o, decay_norms_and_biases, false);

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
  DISTILL_DEFAULT(d, divergence, "forward_kl");
  DISTILL_DEFAULT(d, beta, 0.5);
  DISTILL_DEFAULT(d, alpha, 0.1);
  DISTILL_DEFAULT(d, chunk_tokens, 1024);
  DISTILL_DEFAULT(d, placement, "auto");
  DISTILL_DEFAULT(d, snapshot_teachers, 0);
  DISTILL_DEFAULT(d, snapshot_weight, 0.1);
  DISTILL_DEFAULT(d, snapshot_temperature, 0.1);
  DISTILL_DEFAULT(*d.mutable_cache(), top_k, 64);
  DISTILL_DEFAULT(*d.mutable_pool(), top_k, 64);
  DISTILL_DEFAULT(*d.mutable_pool(), ahead_steps, 4);
  DISTILL_DEFAULT(*d.mutable_pool(), max_batch_samples, 64);
  applyDistillTermDefaults(d);
  const bool temperature_scheduled = d.has_temperature_schedule();  // before mutable_ creates it
  const bool kd_weight_scheduled = d.has_kd_weight_schedule();
  applyScheduleDefaults(temperature_scheduled, d.temperature(), *d.mutable_temperature_schedule());
  applyScheduleDefaults(kd_weight_scheduled, d.kd_weight(), *d.mutable_kd_weight_schedule());
  McDropoutSpec& mc = *d.mutable_mc_dropout();
  DISTILL_DEFAULT(mc, passes, 4);
  DISTILL_DEFAULT(mc, mode, "select");
  DISTILL_DEFAULT(mc, temperature, 1.0);
  DISTILL_DEFAULT(*d.mutable_competency(), temperature, 1.0);

  SparsitySpec& s = *cfg.mutable_sparsity();
  DISTILL_DEFAULT(s, enabled, false);
  DISTILL_DEFAULT(s, criterion, "magnitude");
  DISTILL_DEFAULT(s, granularity, "unstructured");
  DISTILL_DEFAULT(s, scope, "global");
  DISTILL_DEFAULT(s, schedule, s.has_masks() ? "fixed" : "cubic");
  DISTILL_DEFAULT(s, initial_sparsity, 0.0);
  if (s.levels_size() > 0 && !s.has_final_sparsity()) s.set_final_sparsity(s.levels(s.levels_size() - 1));
  DISTILL_DEFAULT(s, final_sparsity, 0.0);
  if (s.levels_size() > 0) DISTILL_DEFAULT(s, level_order, "cycle");
  DISTILL_DEFAULT(s, warmup_steps, 0);
  DISTILL_DEFAULT(s, cooldown_steps, 0);
  DISTILL_DEFAULT(s, interval, 10);
  DISTILL_DEFAULT(s, min_density, 0.0);
  if (s.block_shape_size() == 0) {
    s.add_block_shape(4);
    s.add_block_shape(4);
  }
  DISTILL_DEFAULT(s, iterative_fraction, 0.2);
  DISTILL_DEFAULT(s, threshold, 0.005);
  DISTILL_DEFAULT(s, score_init, 0.01);
  DISTILL_DEFAULT(s, score_lr, 0.01);
  DISTILL_DEFAULT(s, regularizer, 0.0);
  PstSpec& pst = *s.mutable_pst();
  DISTILL_DEFAULT(pst, rank, 4);
  DISTILL_DEFAULT(pst, beta, 1.0);
  DISTILL_DEFAULT(pst, alpha1, 1.0);
  DISTILL_DEFAULT(pst, alpha2, 1.0);
  DISTILL_DEFAULT(pst, lr_scale, 1.0);
  GradientMaskSpec& g = *s.mutable_gradient_mask();
  DISTILL_DEFAULT(g, kind, "");
  DISTILL_DEFAULT(g, keep, 0.3);
  DISTILL_DEFAULT(g, fisher_batches, 8);

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
  DISTILL_DEFAULT(r, memory_budget_gb, 0.0);
  DISTILL_DEFAULT(r, watchdog_seconds, 60.0);
  DISTILL_DEFAULT(r, collective_timeout_seconds, 120.0);
  DISTILL_DEFAULT(r, backend, "auto");
  DISTILL_DEFAULT(r, precision, "fp32");
  DISTILL_DEFAULT(r, gradient_bucket_mb, 25.0);
  DISTILL_DEFAULT(r, zero_stage, 0);
  DISTILL_DEFAULT(r, setup_seconds, 120.0);
  DISTILL_DEFAULT(r, setup_seconds_per_gb, 60.0);
  DISTILL_DEFAULT(r, activation_checkpointing, false);
}

#undef DISTILL_DEFAULT

}  // namespace distill::config
