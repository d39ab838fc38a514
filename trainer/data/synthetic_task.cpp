#include "trainer/data/synthetic_task.h"

#include <algorithm>
#include <set>

#include "common/error.h"
#include "trainer/data/shard_writer.h"

namespace distill::data {
namespace {

constexpr int64_t kIgnoreLabel = -100;
constexpr int64_t kMinNoiseTokens = 4;
constexpr int64_t kSuccessorsPerToken = 4;
constexpr double kUniformTransitionMass = 0.1;
// How often a confuser class has as many signature tokens as the target.
// Ties need the order rule; too many make the task mostly about order.
constexpr double kTieProbability = 0.2;

// Uniform in [0, n), exact: rejects the few draws that would bias `x % n`.
uint64_t below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  uint64_t x;
  do x = rng(); while (x < threshold);
  return x % n;
}

// Uniform in [0, 1) with 53 random bits.
double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

void shuffle(std::vector<int32_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(rng, i)]);
}

std::string describe(const SyntheticOptions& o) {
  std::string s = "synthetic " + o.task + " seed=" + std::to_string(o.seed) +
                  " num_samples=" + std::to_string(o.num_samples) + " vocab_size=" +
                  std::to_string(o.vocab_size) + " seq_len=" + std::to_string(o.seq_len);
  if (o.task == kTaskClassification) {
    s += " num_classes=" + std::to_string(o.num_classes) + " label_noise=" + std::to_string(o.label_noise);
    if (!o.classes.empty()) {
      s += o.relabel ? " relabelled_classes=" : " classes=";
      for (size_t i = 0; i < o.classes.size(); ++i) s += (i ? "," : "") + std::to_string(o.classes[i]);
    }
  }
  return s;
}

DatasetManifest writeLanguageModeling(const SyntheticOptions& o, const std::string& out_dir) {
  std::mt19937_64 rng(o.seed);
  const int64_t V = o.vocab_size, T = o.seq_len;
  // The chain over tokens 1..V-1: each token's likely successors and weights.
  std::vector<std::vector<std::pair<int32_t, double>>> successors(static_cast<size_t>(V));
  for (int64_t a = 1; a < V; ++a) {
    double total = 0;
    for (int64_t k = 0; k < kSuccessorsPerToken; ++k) {
      double w = 0.2 + uniform01(rng);
      successors[a].push_back({int32_t(1 + below(rng, uint64_t(V - 1))), w});
      total += w;
    }
    for (auto& s : successors[a]) s.second *= (1 - kUniformTransitionMass) / total;
  }
  auto step = [&](int32_t a) {
    double u = uniform01(rng);
    for (const auto& [b, p] : successors[a]) {
      if (u < p) return b;
      u -= p;
    }
    return int32_t(1 + below(rng, uint64_t(V - 1)));
  };

  ShardWriter out(out_dir, T, /*per_token_labels=*/true, o.samples_per_shard);
  out.setMetadata("source", describe(o));
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  for (uint64_t i = 0; i < o.num_samples; ++i) {
    const int64_t length = T / 2 + int64_t(below(rng, uint64_t(T - T / 2 + 1)));
    std::vector<int64_t> tokens{int64_t(1 + below(rng, uint64_t(V - 1)))};
    while (int64_t(tokens.size()) < length) tokens.push_back(step(int32_t(tokens.back())));
    padOrTruncate(tokens, T, kPadToken, &ids, &mask);
    std::vector<int64_t> labels(size_t(T), kIgnoreLabel);
    for (int64_t t = 0; t + 1 < length; ++t) labels[t] = tokens[t + 1];
    out.add(ids, mask, labels);
  }
  return out.finish(kTaskLanguageModeling, 0, V);
}

}  // namespace

void checkSyntheticOptions(const SyntheticOptions& o) {
  DISTILL_CHECK(o.task == kTaskClassification || o.task == kTaskLanguageModeling,
                "synthetic task: unknown task '", o.task, "' (classification or language_modeling)");
  DISTILL_CHECK(o.num_samples > 0, "synthetic task: num_samples must be positive");
  DISTILL_CHECK(o.samples_per_shard > 0, "synthetic task: samples_per_shard must be positive");
  DISTILL_CHECK(!o.relabel || !o.classes.empty(), "synthetic task: relabel needs 'classes' (which classes, in label order)");
  if (o.task == kTaskLanguageModeling) {
    DISTILL_CHECK(o.vocab_size >= 3, "synthetic task: vocab_size must be at least 3, got ", o.vocab_size);
    DISTILL_CHECK(o.seq_len >= 2, "synthetic task: seq_len must be at least 2, got ", o.seq_len);
    return;
  }
  DISTILL_CHECK(o.num_classes >= 2, "synthetic task: num_classes must be at least 2, got ", o.num_classes);
  const int64_t min_vocab = kFirstSignatureToken + kSignaturesPerClass * o.num_classes + kMinNoiseTokens;
  DISTILL_CHECK(o.vocab_size >= min_vocab, "synthetic task: vocab_size ", o.vocab_size, " is too small for ",
                o.num_classes, " classes (needs at least ", min_vocab, ")");
  DISTILL_CHECK(o.seq_len >= 12, "synthetic task: seq_len must be at least 12, got ", o.seq_len);
  DISTILL_CHECK(o.label_noise >= 0 && o.label_noise <= 1, "synthetic task: label_noise must be in [0, 1], got ",
                o.label_noise);
  std::set<int64_t> seen;
  for (int64_t c : o.classes) {
    DISTILL_CHECK(c >= 0 && c < o.num_classes, "synthetic task: class ", c, " in 'classes' is not in [0, ",
                  o.num_classes, ")");
    DISTILL_CHECK(seen.insert(c).second, "synthetic task: class ", c, " repeats in 'classes'");
  }
}

int64_t signatureClass(int32_t token, int64_t num_classes) {
  const int64_t k = int64_t(token) - kFirstSignatureToken;
  if (k < 0 || k >= kSignaturesPerClass * num_classes) return -1;
  return k / kSignaturesPerClass;
}

int64_t countingRuleLabel(const std::vector<int32_t>& tokens, int64_t num_classes) {
  std::vector<int64_t> count(size_t(num_classes), 0), first(size_t(num_classes), INT64_MAX);
  for (size_t t = 0; t < tokens.size(); ++t) {
    const int64_t c = signatureClass(tokens[t], num_classes);
    if (c < 0) continue;
    ++count[c];
    first[c] = std::min(first[c], int64_t(t));
  }
  int64_t best = -1;
  for (int64_t c = 0; c < num_classes; ++c) {
    if (count[c] == 0) continue;
    if (best < 0 || count[c] > count[best] || (count[c] == count[best] && first[c] < first[best])) best = c;
  }
  return best;
}

SyntheticClassification::SyntheticClassification(const SyntheticOptions& options)
    : options_(options), rng_(options.seed) {
  checkSyntheticOptions(options_);
}

SyntheticSample SyntheticClassification::next() {
  const int64_t C = options_.num_classes, T = options_.seq_len;
  const int64_t max_count = std::min<int64_t>(4, (T - 3) / 3);
  const int64_t min_count = std::min<int64_t>(2, max_count);
  const int64_t target = int64_t(below(rng_, uint64_t(C)));
  std::vector<std::pair<int64_t, int64_t>> counts{  // (class, signature tokens)
      {target, min_count + int64_t(below(rng_, uint64_t(max_count - min_count + 1)))}};
  const int64_t confusers = 1 + int64_t(below(rng_, uint64_t(std::min<int64_t>(2, C - 1))));
  while (int64_t(counts.size()) < 1 + confusers) {
    const int64_t c = int64_t(below(rng_, uint64_t(C)));
    if (std::any_of(counts.begin(), counts.end(), [&](const auto& p) { return p.first == c; })) continue;
    // A confuser ties with the target at a fixed rate, else it has fewer tokens.
    const int64_t n = uniform01(rng_) < kTieProbability
                          ? counts[0].second
                          : 1 + int64_t(below(rng_, uint64_t(counts[0].second - 1)));
    counts.push_back({c, n});
  }

  std::vector<int32_t> body;
  for (const auto& [c, n] : counts)
    for (int64_t k = 0; k < n; ++k)
      body.push_back(int32_t(kFirstSignatureToken + c * kSignaturesPerClass +
                             int64_t(below(rng_, kSignaturesPerClass))));
  const int64_t noise_first = kFirstSignatureToken + kSignaturesPerClass * C;
  const int64_t min_length = std::max<int64_t>(T / 2, int64_t(body.size()) + 3);
  const int64_t length = min_length + int64_t(below(rng_, uint64_t(T - min_length + 1)));
  while (int64_t(body.size()) + 1 < length)
    body.push_back(int32_t(noise_first + int64_t(below(rng_, uint64_t(options_.vocab_size - noise_first)))));
  shuffle(body, rng_);

  SyntheticSample s;
  s.tokens.push_back(kClsToken);
  s.tokens.insert(s.tokens.end(), body.begin(), body.end());
  s.clean_label = countingRuleLabel(s.tokens, C);
  s.label = s.clean_label;
  // Always draw, so the stream does not depend on label_noise being zero.
  const double u = uniform01(rng_);
  const int64_t other = int64_t(below(rng_, uint64_t(C - 1)));
  if (u < options_.label_noise) s.label = (s.clean_label + 1 + other) % C;
  return s;
}

DatasetManifest writeSyntheticTask(const SyntheticOptions& options, const std::string& out_dir) {
  checkSyntheticOptions(options);
  if (options.task == kTaskLanguageModeling) return writeLanguageModeling(options, out_dir);

  ShardWriter out(out_dir, options.seq_len, /*per_token_labels=*/false, options.samples_per_shard);
  out.setMetadata("source", describe(options));
  const std::set<int64_t> keep(options.classes.begin(), options.classes.end());
  SyntheticClassification stream(options);
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  for (uint64_t i = 0; i < options.num_samples; ++i) {
    SyntheticSample s = stream.next();
    if (!keep.empty() && keep.count(s.label) == 0) continue;
    padOrTruncate(std::vector<int64_t>(s.tokens.begin(), s.tokens.end()), options.seq_len, kPadToken,
                  &ids, &mask);
    int64_t label = s.label;
    if (options.relabel) {
      label = std::find(options.classes.begin(), options.classes.end(), s.label) - options.classes.begin();
    }
    out.add(ids, mask, {label});
  }
  DISTILL_CHECK(out.numSamples() > 0, "synthetic task: no sample of ", options.num_samples,
                " has a label in 'classes'");
  const int64_t declared = options.relabel ? static_cast<int64_t>(options.classes.size()) : options.num_classes;
  return out.finish(kTaskClassification, declared, options.vocab_size);
}

}  // namespace distill::data
