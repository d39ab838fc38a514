#include "common/config_checks.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "common/error.h"

namespace distill::config {

const std::vector<std::string> kOptimizers = {"adamw"};
const std::vector<std::string> kDecays = {"constant", "linear", "cosine"};
const std::vector<std::string> kCombiners = {"mean", "weights", "confidence"};
const std::vector<std::string> kCriteria = {"magnitude"};
const std::vector<std::string> kGranularities = {"unstructured"};
const std::vector<std::string> kScopes = {"global", "per_layer"};
const std::vector<std::string> kSchedules = {"cubic", "constant"};
const std::vector<std::string> kBackends = {"auto", "gloo", "nccl"};

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
  if (t.max_steps() == 0 && t.epochs() == 0) {
    p.add("training.epochs", "must be > 0 when training.max_steps is 0 (nothing would be trained)");
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

void checkDistill(Problems& p, const DistillSpec& d) {
  checkName(p, "distill.combiner", "combiner", d.combiner(), kCombiners);
  checkPositive(p, "distill.temperature", d.temperature());
  checkPositive(p, "distill.confidence_temperature", d.confidence_temperature());
  checkNonNegative(p, "distill.task_weight", d.task_weight());
  checkNonNegative(p, "distill.kd_weight", d.kd_weight());
  if (d.task_weight() == 0 && d.kd_weight() == 0) {
    p.add("distill.task_weight", "task_weight and kd_weight are both 0: the loss would be 0");
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

// The trainer matches these against parameter names with std::regex (ECMAScript).
void checkPatterns(Problems& p, const std::string& field,
                   const google::protobuf::RepeatedPtrField<std::string>& patterns) {
  for (int i = 0; i < patterns.size(); ++i) {
    try {
      std::regex re(patterns[i]);
    } catch (const std::regex_error& e) {
      p.add(field + "[" + std::to_string(i) + "]", "not a valid regular expression \"", patterns[i], "\": ", e.what());
    }
  }
}

void checkSparsity(Problems& p, const SparsitySpec& s, const TrainingSpec& t) {
  checkName(p, "sparsity.criterion", "criterion", s.criterion(), kCriteria);
  checkName(p, "sparsity.granularity", "granularity", s.granularity(), kGranularities);
  checkName(p, "sparsity.scope", "scope", s.scope(), kScopes);
  checkName(p, "sparsity.schedule", "schedule", s.schedule(), kSchedules);
  checkRange(p, "sparsity.initial_sparsity", s.initial_sparsity(), 0, 1, false);
  checkRange(p, "sparsity.final_sparsity", s.final_sparsity(), 0, 1, false);
  if (s.initial_sparsity() > s.final_sparsity()) {
    p.add("sparsity.initial_sparsity", "must be <= sparsity.final_sparsity (", s.final_sparsity(), "), got ",
          s.initial_sparsity());
  }
  if (s.enabled()) {
    checkPositive(p, "sparsity.interval", s.interval());
    const uint64_t window = uint64_t(s.warmup_steps()) + s.cooldown_steps();
    if (t.max_steps() > 0 && window >= t.max_steps()) {
      p.add("sparsity.warmup_steps", "warmup_steps + cooldown_steps (", window,
            ") leave no steps to prune in training.max_steps (", t.max_steps(), ")");
    }
  }
  checkPatterns(p, "sparsity.include", s.include());
  checkPatterns(p, "sparsity.exclude", s.exclude());
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
}

}  // namespace

std::vector<std::string> checkJobConfig(const JobConfig& cfg) {
  Problems p;
  checkFilesAndTraining(p, cfg);
  checkOptimizer(p, cfg.optimizer());
  checkDistill(p, cfg.distill());
  checkSparsity(p, cfg.sparsity(), cfg.training());
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
