// Synthetic datasets for the demo and the tests, reproducible on any machine
// from a seed (std::mt19937_64 with our own sampling: the standard library's
// distributions differ between implementations, torch's RNG between versions).
//
//   data::SyntheticOptions opt;             // classification, 6 classes, vocab 64, T 24
//   opt.seed = 7;
//   opt.classes = {0, 1, 2, 3};             // e.g. for a teacher that sees 4 classes
//   data::writeSyntheticTask(opt, "data/teacher-a");
//
// Classification ("signature counting"). Token 0 is padding, token 1 a [CLS]
// token at position 0, tokens 2 .. 2+4C-1 are signatures (4 per class:
// 2+4c .. 5+4c belong to class c), the rest are noise. A sample picks a class c
// and one or two confuser classes; it holds 2-4 signature tokens of c, fewer
// of each confuser (as many, a tie, one time in five), and noise tokens,
// shuffled, with a random length in [T/2, T]. Its label is the class with the most signature tokens; a tie goes
// to the tied class whose first signature token comes earliest. Then a
// `label_noise` fraction of labels is replaced by a random other class.
//
// Why this shape: counting is learnable by a small encoder in a few hundred
// steps (a 2-layer d=64 encoder reaches ~83% clean accuracy in 400 steps of
// batch 32), ties (~27% of samples) need attention to order, which small
// models rarely learn, so a teacher's soft 50/50 on a tie says more than a
// hard label; and the flipped labels make soft teacher targets worth more than
// the hard labels to a small sparse student.
//
// Language modeling: sequences of a random order-1 Markov chain over tokens
// 1..V-1 (each token has 4 likely successors plus a little uniform mass), with
// per-token labels = the next token, -100 on the last real token and padding.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/dataset_manifest.h"

namespace distill::data {

struct SyntheticOptions {
  std::string task = kTaskClassification;  // or kTaskLanguageModeling
  uint64_t seed = 1;
  // Samples generated; with `classes` set, only those with a kept label are written.
  uint64_t num_samples = 4096;
  int64_t vocab_size = 64;
  int64_t seq_len = 24;
  int64_t num_classes = 6;       // classification only
  double label_noise = 0.1;      // classification only; use 0 for eval sets
  uint64_t samples_per_shard = 1024;
  // Classification only: keep only samples whose (possibly flipped) label is
  // in this set; empty keeps all. The kept samples are exactly those the same
  // seed gives without the filter, so subset datasets are slices of the full one.
  std::vector<int64_t> classes;
  // With `classes`: write class classes[j] as label j, and declare
  // classes.size() classes (the data of a teacher that knows only those; its
  // class map in the job config is `classes`). Without: labels stay as drawn.
  bool relabel = false;
};

inline constexpr int32_t kPadToken = 0;
inline constexpr int32_t kClsToken = 1;
inline constexpr int32_t kFirstSignatureToken = 2;
inline constexpr int64_t kSignaturesPerClass = 4;

// Throws distill::Error naming the option when the options cannot make a task
// (too small a vocabulary or seq_len, label_noise outside [0,1], bad classes).
void checkSyntheticOptions(const SyntheticOptions& options);

// The class whose signature `token` is, or -1 for [CLS], padding and noise.
int64_t signatureClass(int32_t token, int64_t num_classes);

// The noise-free label of a token sequence: most signature tokens wins, ties
// go to the class whose first signature token comes earliest.
// Returns -1 when the sequence holds no signature token.
int64_t countingRuleLabel(const std::vector<int32_t>& tokens, int64_t num_classes);

// One generated classification sample, before padding.
struct SyntheticSample {
  std::vector<int32_t> tokens;  // [CLS] then the shuffled body, seq_len/2 .. seq_len tokens
  int64_t clean_label;          // countingRuleLabel(tokens)
  int64_t label;                // clean_label, or a random other class for a noisy sample
};

// The classification sample stream of a seed (the same whatever `classes` is).
class SyntheticClassification {
 public:
  explicit SyntheticClassification(const SyntheticOptions& options);
  SyntheticSample next();

 private:
  SyntheticOptions options_;
  std::mt19937_64 rng_;
};

// Writes the task into out_dir (shards + dataset.json with sha256) and returns
// the manifest. Throws distill::Error when the class filter keeps no sample.
DatasetManifest writeSyntheticTask(const SyntheticOptions& options, const std::string& out_dir);

}  // namespace distill::data
