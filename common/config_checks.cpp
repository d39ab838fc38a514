#include "common/config_checks.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>
#include <set>

#include "common/error.h"
#include "common/teacher_placement.h"

namespace distill::config {

const std::vector<std::string> kOptimizers = {"adamw"};
const std::vector<std::string> kDecays = {"constant", "linear", "cosine"};
const std::vector<std::string> kDivergences = {"forward_kl", "reverse_kl", "jsd", "skew_kl", "skew_reverse_kl", "tvd"};
const std::vector<std::string> kCombiners = {"mean",       "weights",    "confidence",
                                             "mc_dropout", "competency", "amalgamation"};
const std::vector<std::string> kCriteria = {"magnitude", "taylor", "fisher", "movement", "soft_movement", "pst", "learned"};
const std::vector<std::string> kGranularities = {"unstructured", "N:M", "blocks", "rows", "columns", "neurons", "heads"};
const std::vector<std::string> kScopes = {"global", "per_layer"};
const std::vector<std::string> kSchedules = {"one_shot", "constant", "iterative", "cubic", "reverse_cubic", "fixed"};
const std::vector<std::string> kGradientMasks = {"", "child_tuning_f", "child_tuning_d"};
const std::vector<std::string> kBackends = {"auto", "gloo", "nccl"};
const std::vector<std::string> kPrecisions = {"fp32", "bf16", "fp16"};

namespace {
namespace fs = std::filesystem;

// Collects "field: problem" lines.
class Problems {
 public:
  template <typename... Args>
  void add(const std::string& field, const Args&... parts) {
    list_.push_back(field + ": " + detail::concat(parts...));
  }
  std::vector<std::string> take() { return std::move(list_); }

 private:
  std::vector<std::string> list_;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void checkName(Problems& p, const std::string& field, const std::string& what, const std::string& value,
               const std::vector<std::string>& accepted) {
  if (std::find(accepted.begin(), accepted.end(), value) == accepted.end()) {
    p.add(field, "unknown ", what, " \"", value, "\" (accepted: ", join(accepted), ")");
  }
}

void checkPositive(Problems& p, const std::string& field, double value) {
  if (!(value > 0)) p.add(field, "must be > 0, got ", value);
}

void checkNonNegative(Problems& p, const std::string& field, double value) {
  if (!(value >= 0)) p.add(field, "must be >= 0, got ", value);
}

// For a value in [lo, hi) (or [lo, hi] when hi_included).
void checkRange(Problems& p, const std::string& field, double value, double lo, double hi, bool hi_included) {
  bool ok = value >= lo && (hi_included ? value <= hi : value < hi);
  if (!ok) p.add(field, "must be in [", lo, ", ", hi, hi_included ? "]" : ")", ", got ", value);
}

// Relative paths are resolved against the working directory: say which one when a file is missing.
std::string whereRelative(const std::string& path) {
  if (fs::path(path).is_absolute()) return "";
  std::error_code ec;
  return " (relative to the current directory " + fs::current_path(ec).string() + ")";
}

void checkFile(Problems& p, const std::string& field, const std::string& path, const std::string& what) {
  std::error_code ec;
  if (path.empty()) {
    p.add(field, "required: the path of ", what);
  } else if (!fs::exists(path, ec)) {
    p.add(field, "file not found: ", path, whereRelative(path));
  } else if (fs::is_directory(path, ec)) {
    p.add(field, path, " is a directory; expected ", what);
  }
}

void checkDataset(Problems& p, const std::string& field, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    p.add(field, "dataset directory not found: ", dir, whereRelative(dir),
          "; create it with `distill prepare-data`");
  } else if (!fs::is_regular_file(fs::path(dir) / "dataset.json", ec)) {
    p.add(field, "no dataset.json in ", dir, "; is it a directory written by `distill prepare-data`?");
  }
}

void checkFilesAndTraining(Problems& p, const JobConfig& cfg) {
  checkFile(p, "student.path", cfg.student().path(), "the student (a TorchScript file)");
  if (cfg.data().train().empty()) {
    p.add("data.train", "required: the directory of the training set (dataset.json and shards)");
  } else {
    checkDataset(p, "data.train", cfg.data().train());
  }
  if (!cfg.data().eval().empty()) checkDataset(p, "data.eval", cfg.data().eval());
  std::error_code ec;
  if (cfg.run_dir().empty()) {
    p.add("run_dir", "must not be empty");
  } else if (fs::exists(cfg.run_dir(), ec) && !fs::is_directory(cfg.run_dir(), ec)) {
    p.add("run_dir", cfg.run_dir(), " exists and is not a directory");
  }

  const TrainingSpec& t = cfg.training();
  checkPositive(p, "training.batch_size", t.batch_size());
  const uint32_t micro = t.gradient_accumulation();
  if (micro == 0) {
    p.add("training.gradient_accumulation", "must be >= 1 (micro-batches per optimizer step), got 0");
  } else if (t.batch_size() % micro != 0) {
    p.add("training.gradient_accumulation", micro, " does not divide training.batch_size ", t.batch_size(),
          ": each worker's batch is split into that many equal micro-batches");
  }
  if (t.max_steps() == 0 && t.epochs() == 0) {
    p.add("training.epochs", "must be > 0 when training.max_steps is 0 (nothing would be trained)");
  }
  // 0 is the default and means off; whether the fraction keeps at least one
  // global batch depends on the dataset and the worker count, so the
  // coordinator checks that at start.
  const double fraction = t.data_selection().fraction();
  if (fraction != 0 && !(fraction > 0 && fraction <= 1)) {
    p.add("training.data_selection.fraction", "must be in (0, 1], or 0 to turn data selection off, got ", fraction);
  }
}

void checkOptimizer(Problems& p, const OptimizerSpec& o) {
  checkName(p, "optimizer.name", "optimizer", o.name(), kOptimizers);
  checkPositive(p, "optimizer.lr", o.lr());
  checkNonNegative(p, "optimizer.weight_decay", o.weight_decay());
  checkRange(p, "optimizer.beta1", o.beta1(), 0, 1, false);
  checkRange(p, "optimizer.beta2", o.beta2(), 0, 1, false);
  checkPositive(p, "optimizer.eps", o.eps());
  checkName(p, "optimizer.decay", "decay", o.decay(), kDecays);
  checkRange(p, "optimizer.min_lr_ratio", o.min_lr_ratio(), 0, 1, true);
  checkNonNegative(p, "optimizer.max_grad_norm", o.max_grad_norm());
}

// distill.terms[i].kind and the layer choices each kind accepts.
const std::vector<std::string> kDistillTerms = {"hidden_mse", "embedding_mse", "attention_mse",
                                                "cka",        "infonce",       "cosine"};
const std::vector<std::string> kTermLayers = {"uniform", "last", "explicit"};
const std::vector<std::string> kAttentionHeads = {"average", "mapped"};
const std::vector<std::string> kScheduleShapes = {"constant", "linear", "cosine"};
const std::vector<std::string> kMcDropoutModes = {"select", "softmax"};

// Layer indices against the models' depths are checked by the trainer
// (kd::layerPairs), which knows them; here only what the config alone shows.
void checkLayerMap(Problems& p, const std::string& field, const DistillTerm& t) {
  if (t.layers() == "explicit" && t.layer_map_size() == 0) {
    p.add(field + ".layer_map", "required: layers is \"explicit\"; list pairs like {student: 0, teacher: 1}");
  }
  if (t.layers() != "explicit" && t.layer_map_size() > 0) {
    p.add(field + ".layer_map", "is given but layers is \"", t.layers(), "\"; set layers: explicit or remove it");
  }
  std::set<uint32_t> students;
  for (int j = 0; j < t.layer_map_size(); ++j) {
    const LayerPair& pair = t.layer_map(j);
    const std::string pf = field + ".layer_map[" + std::to_string(j) + "]";
    if (!pair.has_student()) p.add(pf + ".student", "required: the student layer (0-based)");
    if (!pair.has_teacher()) p.add(pf + ".teacher", "required: the teacher layer (0-based)");
    if (pair.has_student() && !students.insert(pair.student()).second) {
      p.add(pf + ".student", "student layer ", pair.student(), " is mapped twice");
    }
  }
}

void checkDistillTerms(Problems& p, const DistillSpec& d) {
  std::set<std::string> names;
  for (int i = 0; i < d.terms_size(); ++i) {
    const DistillTerm& t = d.terms(i);
    const std::string field = "distill.terms[" + std::to_string(i) + "]";
    if (t.kind().empty()) {
      p.add(field + ".kind", "required: one of ", join(kDistillTerms));
      continue;
    }
    checkName(p, field + ".kind", "term", t.kind(), kDistillTerms);
    if (t.name().empty()) p.add(field + ".name", "must not be empty");
    if (!names.insert(t.name()).second) {
      p.add(field + ".name", "term name \"", t.name(), "\" is used twice; give each term of the same kind a name");
    }
    if (t.name() == "total" || t.name() == "task" || t.name() == "kd") {
      p.add(field + ".name", "\"", t.name(), "\" is reserved (distill_loss{term} reports total, task and kd); "
            "choose another name");
    }
    checkNonNegative(p, field + ".weight", t.weight());
    if (t.kind() == "embedding_mse") {
      if (t.layers() != "embeddings" || t.layer_map_size() > 0) {
        p.add(field + ".layers", "embedding_mse compares the embeddings (hidden_states[0]); remove layers and layer_map");
      }
    } else {
      checkName(p, field + ".layers", "layer choice", t.layers(), kTermLayers);
      checkLayerMap(p, field, t);
    }
    if (t.kind() == "attention_mse") {
      checkName(p, field + ".attention_heads", "attention_heads", t.attention_heads(), kAttentionHeads);
    } else if (t.has_attention_heads()) {
      p.add(field + ".attention_heads", "only applies to attention_mse terms");
    }
    if (t.kind() == "infonce") {
      checkPositive(p, field + ".temperature", t.temperature());
    } else if (t.has_temperature()) {
      p.add(field + ".temperature", "only applies to infonce terms (the logit KL uses distill.temperature)");
    }
  }
  if (d.terms_size() > 0 && d.teachers_size() == 0) {
    p.add("distill.terms", "lists ", d.terms_size(), d.terms_size() == 1 ? " term" : " terms",
          " but distill.teachers is empty; add a teacher");
  }
}

// `positive`: the value must stay > 0 (a temperature), else >= 0 (a weight).
// The start is the base value, checked with its own field.
void checkSchedule(Problems& p, const std::string& field, const ValueSchedule& s, bool positive) {
  checkName(p, field + ".shape", "shape", s.shape(), kScheduleShapes);
  if (s.shape() == "constant") return;  // end is ignored
  if (positive) {
    checkPositive(p, field + ".end", s.end());
  } else {
    checkNonNegative(p, field + ".end", s.end());
  }
}

void checkTeacherClasses(Problems& p, const DistillSpec& d) {
  for (int k = 0; k < d.teachers_size(); ++k) {
    const TeacherSpec& t = d.teachers(k);
    std::set<uint32_t> seen;
    for (int j = 0; j < t.classes_size(); ++j) {
      if (!seen.insert(t.classes(j)).second) {
        p.add("distill.teachers[" + std::to_string(k) + "].classes[" + std::to_string(j) + "]", "student class ",
              t.classes(j), " is listed twice; each teacher output must be a different student class");
      }
    }
  }
}

void checkDistill(Problems& p, const DistillSpec& d) {
  checkName(p, "distill.combiner", "combiner", d.combiner(), kCombiners);
  checkName(p, "distill.divergence", "divergence", d.divergence(), kDivergences);
  if (d.beta() < 0 || d.beta() > 1) p.add("distill.beta", "must be in [0, 1], got ", d.beta());
  if (d.alpha() < 0 || d.alpha() >= 1) p.add("distill.alpha", "must be in [0, 1), got ", d.alpha());
  const bool reverse = d.divergence() == "reverse_kl" || (d.divergence() == "jsd" && d.beta() == 1) ||
                       (d.divergence() == "skew_reverse_kl" && d.alpha() == 0);
  for (int k = 0; k < d.teachers_size() && reverse; ++k) {
    if (d.teachers(k).classes_size() > 0) {
      p.add("distill.divergence", d.divergence(), " is infinite for teacher \"", d.teachers(k).name(),
            "\": a teacher with a class list gives probability 0 to the other classes; use forward_kl, jsd with "
            "beta < 1, skew_reverse_kl with alpha > 0 or tvd");
    }
  }
  checkName(p, "distill.placement", "placement", d.placement(), {"auto", "replicate", "cache", "pool"});
  if (d.placement() == "cache" || d.placement() == "pool") {
    if (const std::string refusal = placement::topKRefusal(d); !refusal.empty()) {
      p.add("distill.placement", d.placement(), ": ", refusal);
    }
  }
  checkPositive(p, "distill.cache.top_k", d.cache().top_k());
  checkPositive(p, "distill.pool.top_k", d.pool().top_k());
  checkPositive(p, "distill.pool.max_batch_samples", d.pool().max_batch_samples());
  if (d.pool().ahead_steps() < 1 || d.pool().ahead_steps() > 8) {
    p.add("distill.pool.ahead_steps", "must be between 1 and 8 (steps the teacher ranks run ahead), got ",
          d.pool().ahead_steps());
  }
  checkDistillTerms(p, d);
  checkTeacherClasses(p, d);
  checkSchedule(p, "distill.temperature_schedule", d.temperature_schedule(), true);
  checkSchedule(p, "distill.kd_weight_schedule", d.kd_weight_schedule(), false);
  if (d.combiner() == "mc_dropout") {
    checkPositive(p, "distill.mc_dropout.passes", d.mc_dropout().passes());
    checkName(p, "distill.mc_dropout.mode", "mode", d.mc_dropout().mode(), kMcDropoutModes);
    checkPositive(p, "distill.mc_dropout.temperature", d.mc_dropout().temperature());
  }
  if (d.combiner() == "competency") checkPositive(p, "distill.competency.temperature", d.competency().temperature());
  checkPositive(p, "distill.temperature", d.temperature());
  checkPositive(p, "distill.confidence_temperature", d.confidence_temperature());
  checkNonNegative(p, "distill.task_weight", d.task_weight());
  checkNonNegative(p, "distill.kd_weight", d.kd_weight());
  const bool any_term = std::any_of(d.terms().begin(), d.terms().end(),
                                    [](const DistillTerm& t) { return t.weight() > 0; });
  const ValueSchedule& kd_schedule = d.kd_weight_schedule();
  const bool scheduled_kd = kd_schedule.shape() != "constant" && kd_schedule.end() > 0;
  if (d.task_weight() == 0 && d.kd_weight() == 0 && !scheduled_kd && !any_term) {
    p.add("distill.task_weight", "task_weight and kd_weight are both 0: the loss would be 0");
  }
  if (d.kd_weight() == 0 && scheduled_kd && d.teachers_size() == 0) {
    p.add("distill.kd_weight_schedule", "rises above 0 but distill.teachers is empty; add a teacher or remove it");
  }
  if (d.kd_weight() > 0 && d.teachers_size() == 0) {
    p.add("distill.kd_weight", "is ", d.kd_weight(), " but distill.teachers is empty; add a teacher or set kd_weight: 0");
  }

  std::set<std::string> names;
  double weight_sum = 0;
  for (int i = 0; i < d.teachers_size(); ++i) {
    const TeacherSpec& t = d.teachers(i);
    const std::string field = "distill.teachers[" + std::to_string(i) + "]";
    checkFile(p, field + ".path", t.path(), "a teacher (a TorchScript file)");
    if (!names.insert(t.name()).second) p.add(field + ".name", "teacher name \"", t.name(), "\" is used twice");
    if (d.combiner() == "weights" && !t.has_weight()) {
      p.add(field + ".weight", "required: the `weights` combiner needs a weight for every teacher");
    }
    if (t.has_weight()) {
      checkNonNegative(p, field + ".weight", t.weight());
      weight_sum += std::max(0.0, t.weight());
    }
  }
  if (d.combiner() == "weights" && d.teachers_size() > 0 && weight_sum == 0) {
    p.add("distill.teachers", "the teacher weights are all 0; the `weights` combiner needs a positive one");
  }
}

// Deepest nesting of groups and classes in a regular expression (escapes skipped).
int nestingDepth(const std::string& pattern) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '(' || pattern[i] == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((pattern[i] == ')' || pattern[i] == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// The trainer matches these against parameter names with std::regex (ECMAScript),
// whose compiler recurses per nesting level: a pattern nested thousands deep
// would overflow the stack, so length and nesting are bounded first.
void checkPatterns(Problems& p, const std::string& field,
                   const google::protobuf::RepeatedPtrField<std::string>& patterns) {
  constexpr size_t kMaxLength = 1024;
  constexpr int kMaxNesting = 32;
  for (int i = 0; i < patterns.size(); ++i) {
    const std::string where = field + "[" + std::to_string(i) + "]";
    if (patterns[i].size() > kMaxLength) {
      p.add(where, "a regular expression of ", patterns[i].size(), " characters; at most ", kMaxLength,
            " are accepted (parameter names are short: list several patterns instead)");
      continue;
    }
    if (nestingDepth(patterns[i]) > kMaxNesting) {
      p.add(where, "a regular expression nested ", nestingDepth(patterns[i]), " groups deep; at most ", kMaxNesting,
            " are accepted");
      continue;
    }
    try {
      std::regex re(patterns[i]);
    } catch (const std::regex_error& e) {
      p.add(field + "[" + std::to_string(i) + "]", "not a valid regular expression \"", patterns[i], "\": ", e.what());
    }
  }
}

// "N:M" granularities: N of every M consecutive entries are kept. Numbers of
// more than 6 digits are not N:M patterns (and would overflow an int).
bool parseNM(const std::string& g, int* n, int* m) {
  static const std::regex kNM("^([0-9]{1,6}):([0-9]{1,6})$");
  std::smatch match;
  if (!std::regex_match(g, match, kNM)) return false;
  *n = std::stoi(match[1]);
  *m = std::stoi(match[2]);
  return true;
}

void checkGradientMask(Problems& p, const SparsitySpec& s) {
  const GradientMaskSpec& g = s.gradient_mask();
  checkName(p, "sparsity.gradient_mask.kind", "gradient mask", g.kind(), kGradientMasks);
  if (g.kind().empty()) return;
  if (!(g.keep() > 0 && g.keep() <= 1)) p.add("sparsity.gradient_mask.keep", "must be in (0, 1], got ", g.keep());
  if (g.kind() == "child_tuning_d") checkPositive(p, "sparsity.gradient_mask.fisher_batches", g.fisher_batches());
  checkPatterns(p, "sparsity.gradient_mask.include", g.include());
  checkPatterns(p, "sparsity.gradient_mask.exclude", g.exclude());
  if (s.enabled() && (s.criterion() == "pst" || s.criterion() == "learned")) {
    p.add("sparsity.gradient_mask.kind", "\"", g.kind(), "\" masks weight gradients, but criterion \"", s.criterion(),
          "\" freezes the weights it prunes; use Child-Tuning with a gradient-based or magnitude criterion");
  }
}

void checkGroups(Problems& p, const SparsitySpec& s) {
  for (int i = 0; i < s.groups_size(); ++i) {
    const StructureGroup& g = s.groups(i);
    const std::string field = "sparsity.groups[" + std::to_string(i) + "]";
    if (g.kind() != "heads" && g.kind() != "neurons") {
      p.add(field + ".kind", "unknown group kind \"", g.kind(), "\" (accepted: heads, neurons)");
    }
    checkPositive(p, field + ".count", g.count());
    if (g.members_size() == 0) p.add(field + ".members", "a group needs at least one member slice");
    for (int j = 0; j < g.members_size(); ++j) {
      const std::string mf = field + ".members[" + std::to_string(j) + "]";
      if (g.members(j).param().empty()) p.add(mf + ".param", "required: the parameter's name");
      checkPositive(p, mf + ".size", g.members(j).size());
    }
  }
}

// Dynamic Sparsification: nested levels ranked from one criterion's scores.
void checkLevels(Problems& p, const SparsitySpec& s, bool nm) {
  if (s.levels_size() == 0) {
    if (s.has_level_order()) p.add("sparsity.level_order", "is set but sparsity.levels is empty; remove it or set levels");
    return;
  }
  if (s.levels_size() == 1) {
    p.add("sparsity.levels", "has one level; one level is final_sparsity: give two or more, or remove levels");
  }
  for (int i = 0; i < s.levels_size(); ++i) {
    const double l = s.levels(i);
    const std::string field = "sparsity.levels[" + std::to_string(i) + "]";
    if (!(l >= 0 && l < 1)) p.add(field, "must be in [0, 1), got ", l);
    if (i > 0 && !(l > s.levels(i - 1))) {
      p.add(field, "levels must ascend (densest first), got ", l, " after ", s.levels(i - 1));
    }
  }
  if (s.has_level_order()) checkName(p, "sparsity.level_order", "level order", s.level_order(), {"cycle", "sample"});
  if (!s.enabled()) p.add("sparsity.levels", "is set but sparsity.enabled is false; set enabled: true");
  const double last = s.levels(s.levels_size() - 1);
  if (std::abs(s.final_sparsity() - last) > 1e-12) {
    p.add("sparsity.final_sparsity", "with sparsity.levels it is the last level (", last, "); remove it or set it to ",
          last, ", got ", s.final_sparsity());
  }
  const std::string& c = s.criterion();
  if (c == "soft_movement" || c == "learned" || c == "pst") {
    p.add("sparsity.levels", "criterion \"", c, "\" ", c == "pst" ? "freezes the weights" : "keeps entries above a threshold",
          "; nested levels rank one score at several sparsities: use magnitude, taylor, fisher or movement");
  }
  if (nm) p.add("sparsity.levels", "granularity ", s.granularity(), " is one fixed pattern; levels need a ranked granularity");
  if (s.has_masks()) p.add("sparsity.levels", "cannot start from sparsity.masks (one level's masks); remove one of them");
}

void checkSparsity(Problems& p, const SparsitySpec& s, const TrainingSpec& t) {
  checkName(p, "sparsity.criterion", "criterion", s.criterion(), kCriteria);
  int n = 0, m = 0;
  const bool nm = parseNM(s.granularity(), &n, &m);
  static const std::regex kLongNM("^[0-9]+:[0-9]+$");
  if (!nm && std::regex_match(s.granularity(), kLongNM)) {
    p.add("sparsity.granularity", "\"", s.granularity(), "\": N and M of an N:M pattern have at most 6 digits (2:4, 4:8)");
  } else if (!nm) {
    checkName(p, "sparsity.granularity", "granularity", s.granularity(), kGranularities);
  }
  checkName(p, "sparsity.scope", "scope", s.scope(), kScopes);
  checkName(p, "sparsity.schedule", "schedule", s.schedule(), kSchedules);
  checkRange(p, "sparsity.initial_sparsity", s.initial_sparsity(), 0, 1, false);
  checkRange(p, "sparsity.final_sparsity", s.final_sparsity(), 0, 1, false);
  checkRange(p, "sparsity.min_density", s.min_density(), 0, 1, false);
  if (s.initial_sparsity() > s.final_sparsity()) {
    p.add("sparsity.initial_sparsity", "must be <= sparsity.final_sparsity (", s.final_sparsity(), "), got ",
          s.initial_sparsity());
  }
  checkGroups(p, s);
  checkGradientMask(p, s);
  checkPatterns(p, "sparsity.include", s.include());
  checkPatterns(p, "sparsity.exclude", s.exclude());
  checkLevels(p, s, nm);
  if (s.has_masks()) {
    if (!s.enabled()) p.add("sparsity.masks", "is set but sparsity.enabled is false; set enabled: true");
    checkFile(p, "sparsity.masks", s.masks(), "a masks.safetensors (distill prune writes one)");
  }
  if (s.schedule() == "fixed") {  // the file's masks: no target, pattern or curve to check
    if (!s.has_masks()) p.add("sparsity.schedule", "\"fixed\" keeps the masks of sparsity.masks, which is not set");
    return;
  }
  if (!s.enabled()) return;

  checkPositive(p, "sparsity.interval", s.interval());
  const uint64_t window = uint64_t(s.warmup_steps()) + s.cooldown_steps();
  if (t.max_steps() > 0 && window >= t.max_steps()) {
    p.add("sparsity.warmup_steps", "warmup_steps + cooldown_steps (", window,
          ") leave no steps to prune in training.max_steps (", t.max_steps(), ")");
  }
  const std::string& c = s.criterion();
  const bool thresholded = c == "soft_movement" || c == "learned";
  const bool data_driven = c == "taylor" || c == "fisher" || c == "movement" || c == "soft_movement";
  if (data_driven && s.warmup_steps() == 0) {
    p.add("sparsity.warmup_steps", "criterion \"", c, "\" scores from gradients, which do not exist before the "
          "first step; set warmup_steps >= 1");
  }
  if (nm) {
    if (n <= 0 || m <= 0 || n >= m) {
      p.add("sparsity.granularity", "\"", s.granularity(), "\" must be N:M with 0 < N < M (e.g. 2:4)");
    } else {
      const double wanted = 1.0 - static_cast<double>(n) / m;
      if (std::abs(s.final_sparsity() - wanted) > 1e-9) {
        p.add("sparsity.final_sparsity", "granularity ", s.granularity(), " prunes exactly ", wanted,
              " of the entries; set final_sparsity: ", wanted);
      }
    }
    if (s.schedule() != "one_shot" && s.schedule() != "constant") {
      p.add("sparsity.schedule", "granularity ", s.granularity(), " is a fixed pattern, it cannot follow the \"",
            s.schedule(), "\" curve; use one_shot or constant");
    }
    if (thresholded) {
      p.add("sparsity.criterion", "\"", c, "\" keeps entries above a threshold, which cannot guarantee ",
            s.granularity(), "; use magnitude, taylor, fisher, movement or pst");
    }
    if (s.min_density() > 0) p.add("sparsity.min_density", "has no effect with ", s.granularity(), "; remove it");
  }
  if (s.granularity() == "blocks") {
    if (s.block_shape_size() != 2 || s.block_shape(0) == 0 || s.block_shape(1) == 0) {
      p.add("sparsity.block_shape", "must be [rows, columns], both >= 1");
    }
  }
  if (thresholded) {
    if (s.final_sparsity() != 0 || s.initial_sparsity() != 0) {
      p.add("sparsity.final_sparsity", "criterion \"", c, "\" keeps the entries whose score exceeds "
            "sparsity.threshold, so its sparsity is learned, not scheduled; leave initial/final_sparsity at 0");
    }
    if (s.schedule() != "constant") {
      p.add("sparsity.schedule", "criterion \"", c, "\" recomputes its masks from the threshold every interval "
            "steps; use schedule: constant");
    }
    if (s.min_density() > 0) p.add("sparsity.min_density", "is not supported with criterion \"", c, "\"");
    checkPositive(p, "sparsity.score_lr", s.score_lr());
  } else if (s.final_sparsity() == 0 && !nm) {
    p.add("sparsity.final_sparsity", "sparsity is enabled but final_sparsity is 0");
  }
  if (s.schedule() == "iterative" && !(s.iterative_fraction() > 0 && s.iterative_fraction() < 1)) {
    p.add("sparsity.iterative_fraction", "must be in (0, 1), got ", s.iterative_fraction());
  }
  if (c == "soft_movement") checkNonNegative(p, "sparsity.regularizer", s.regularizer());
  if (c == "pst") {
    checkPositive(p, "sparsity.pst.rank", s.pst().rank());
    checkPositive(p, "sparsity.pst.lr_scale", s.pst().lr_scale());
  }
}

// CAP's snapshot teachers are taken at mask updates: they need pruning.
void checkSnapshotTeachers(Problems& p, const JobConfig& cfg) {
  const DistillSpec& d = cfg.distill();
  if (d.snapshot_teachers() == 0) return;
  if (d.snapshot_teachers() > 64) {
    p.add("distill.snapshot_teachers", "keeps that many copies of the student; at most 64, got ", d.snapshot_teachers());
  }
  if (!cfg.sparsity().enabled()) {
    p.add("distill.snapshot_teachers", "snapshots are taken at the mask updates of sparsity, which is not enabled");
  }
  checkPositive(p, "distill.snapshot_weight", d.snapshot_weight());
  checkPositive(p, "distill.snapshot_temperature", d.snapshot_temperature());
}

void checkServices(Problems& p, const JobConfig& cfg) {
  if (cfg.checkpoint().keep() < 1) p.add("checkpoint.keep", "must be >= 1 (the latest checkpoint is needed to resume)");
  const MetricsSpec& m = cfg.metrics();
  if (m.address().empty()) p.add("metrics.address", "must not be empty (e.g. 127.0.0.1 or 0.0.0.0)");
  if (m.port() > 65535) p.add("metrics.port", "must be <= 65535 (0 picks a free port), got ", m.port());
  checkPositive(p, "metrics.report_every", m.report_every());
  checkPositive(p, "metrics.progress_seconds", m.progress_seconds());
  const RuntimeSpec& r = cfg.runtime();
  checkPositive(p, "runtime.threads_per_worker", r.threads_per_worker());
  checkPositive(p, "runtime.watchdog_seconds", r.watchdog_seconds());
  checkPositive(p, "runtime.collective_timeout_seconds", r.collective_timeout_seconds());
  checkName(p, "runtime.backend", "backend", r.backend(), kBackends);
  checkName(p, "runtime.precision", "precision", r.precision(), kPrecisions);
  if (r.precision() == "fp16" && r.backend() == "gloo") {
    p.add("runtime.precision", "fp16 runs on CUDA only (with loss scaling); this job uses runtime.backend gloo, "
          "the CPU: use bf16 or fp32");
  }
  checkNonNegative(p, "runtime.gradient_bucket_mb", r.gradient_bucket_mb());
  if (r.zero_stage() > 2) {
    p.add("runtime.zero_stage", "must be 0 (no sharding), 1 (AdamW state sharded over workers) or 2 (AdamW state "
          "and gradients sharded), got ", r.zero_stage());
  }
  if (r.zero_stage() == 2) {
    // Under ZeRO-2 a worker keeps only its own parameters' gradients.
    const SparsitySpec& s = cfg.sparsity();
    if (s.enabled() && s.criterion() != "magnitude") {
      p.add("runtime.zero_stage", "2 keeps each gradient on one worker only, and sparsity.criterion \"", s.criterion(),
            "\" scores every weight from its gradient on every worker: use zero_stage 1 (or criterion magnitude)");
    }
    if (s.gradient_mask().kind() == "child_tuning_d") {
      p.add("runtime.zero_stage", "2 keeps each gradient on one worker only, and sparsity.gradient_mask "
            "child_tuning_d ranks every gradient: use zero_stage 1");
    }
    if (r.precision() == "fp16") {
      p.add("runtime.zero_stage", "2 with precision fp16 is not supported (the overflow check would see one "
            "worker's gradients only): use zero_stage 1 or bf16");
    }
  }
  checkPositive(p, "runtime.setup_seconds", r.setup_seconds());
  checkNonNegative(p, "runtime.setup_seconds_per_gb", r.setup_seconds_per_gb());
}

}  // namespace

std::vector<std::string> checkJobConfig(const JobConfig& cfg) {
  Problems p;
  checkFilesAndTraining(p, cfg);
  checkOptimizer(p, cfg.optimizer());
  checkDistill(p, cfg.distill());
  checkSparsity(p, cfg.sparsity(), cfg.training());
  checkSnapshotTeachers(p, cfg);
  checkServices(p, cfg);
  return p.take();
}

void throwIfInvalid(const JobConfig& cfg, const std::string& source) {
  std::vector<std::string> problems = checkJobConfig(cfg);
  if (problems.empty()) return;
  std::string message = source + ": " + std::to_string(problems.size()) +
                        (problems.size() == 1 ? " problem" : " problems") + " in the job config:";
  for (const auto& line : problems) message += "\n  " + line;
  throw Error(message);
}

}  // namespace distill::config
