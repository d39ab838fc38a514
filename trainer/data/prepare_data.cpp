#include "trainer/data/prepare_data.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "trainer/data/shard_writer.h"

namespace distill::data {
namespace {

using nlohmann::json;
constexpr int64_t kIgnoreLabel = -100;

// Integers of a JSON array; `allow_ignore` also accepts -100.
std::vector<int64_t> integers(const json& array, const std::string& where, const char* field,
                              bool allow_ignore) {
  DISTILL_CHECK(array.is_array(), where, ": '", field, "' must be an array of integers");
  std::vector<int64_t> out;
  out.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    const json& v = array[i];
    DISTILL_CHECK(v.is_number_integer(), where, ": '", field, "'[", i, "] is ", v.dump(),
                  ", not an integer");
    int64_t x = v.get<int64_t>();
    DISTILL_CHECK(x >= 0 || (allow_ignore && x == kIgnoreLabel), where, ": '", field, "'[", i,
                  "] is ", x, allow_ignore ? "; only ids >= 0 and -100 are allowed" : "; ids must be >= 0");
    DISTILL_CHECK(x <= INT32_MAX, where, ": '", field, "'[", i, "] is ", x, ", beyond int32");
    out.push_back(x);
  }
  return out;
}

}  // namespace

DatasetManifest prepareFromJsonl(const std::string& jsonl, const std::string& out_dir,
                                 const PrepareOptions& options) {
  std::ifstream in(jsonl);
  DISTILL_CHECK(in.good(), jsonl, ": cannot open");
  DISTILL_CHECK(options.seq_len > 0, "prepare-data: --seq-len must be positive");
  DISTILL_CHECK(options.pad_id >= 0, "prepare-data: pad id must be >= 0");
  DISTILL_CHECK(options.vocab_size == 0 || options.pad_id < options.vocab_size,
                "prepare-data: pad id ", options.pad_id, " is outside the vocabulary of ",
                options.vocab_size);

  enum class Kind { Unknown, Classification, PerToken } kind = Kind::Unknown;
  std::unique_ptr<ShardWriter> out;
  int64_t max_id = options.pad_id, max_label = -1;
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  std::string line;
  for (uint64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = jsonl + ":" + std::to_string(line_no);
    json sample;
    try {
      sample = json::parse(line);
    } catch (const json::exception& e) {
      DISTILL_FAIL(where, ": not valid JSON: ", e.what());
    }
    DISTILL_CHECK(sample.is_object() && sample.contains("input_ids"), where,
                  ": each line must be an object with \"input_ids\" and \"label\" or \"labels\"");
    const bool has_label = sample.contains("label"), has_labels = sample.contains("labels");
    DISTILL_CHECK(has_label != has_labels, where, ": give exactly one of \"label\" (classification)",
                  " and \"labels\" (one per token)");
    const Kind this_kind = has_label ? Kind::Classification : Kind::PerToken;
    if (kind == Kind::Unknown) {
      kind = this_kind;
      out = std::make_unique<ShardWriter>(out_dir, options.seq_len, kind == Kind::PerToken,
                                          options.samples_per_shard);
      out->setMetadata("source", jsonl);
    }
    DISTILL_CHECK(this_kind == kind, where, ": has \"", has_label ? "label" : "labels",
                  "\" but earlier lines have \"", has_label ? "labels" : "label",
                  "\"; a file holds one kind of sample");

    const std::vector<int64_t> tokens = integers(sample["input_ids"], where, "input_ids", false);
    DISTILL_CHECK(!tokens.empty(), where, ": 'input_ids' is empty");
    for (int64_t id : tokens) {
      DISTILL_CHECK(options.vocab_size == 0 || id < options.vocab_size, where, ": token id ", id,
                    " is outside the vocabulary of ", options.vocab_size);
      max_id = std::max(max_id, id);
    }
    padOrTruncate(tokens, options.seq_len, options.pad_id, &ids, &mask);

    std::vector<int64_t> labels;
    if (kind == Kind::Classification) {
      const json& label = sample["label"];
      DISTILL_CHECK(label.is_number_integer() && label.get<int64_t>() >= 0, where,
                    ": 'label' must be an integer >= 0, got ", label.dump());
      const int64_t c = label.get<int64_t>();
      DISTILL_CHECK(options.num_classes == 0 || c < options.num_classes, where, ": label ", c,
                    " is not below num_classes ", options.num_classes);
      labels = {c};
      max_label = std::max(max_label, c);
    } else {
      labels = integers(sample["labels"], where, "labels", true);
      DISTILL_CHECK(labels.size() == tokens.size(), where, ": 'labels' has ", labels.size(),
                    " entries but 'input_ids' has ", tokens.size());
      for (int64_t l : labels) {
        DISTILL_CHECK(options.vocab_size == 0 || l < options.vocab_size, where, ": label ", l,
                      " is outside the vocabulary of ", options.vocab_size);
        max_id = std::max(max_id, l);
      }
      labels.resize(size_t(options.seq_len), kIgnoreLabel);  // pads and truncation alike
    }
    out->add(ids, mask, labels);
  }
  DISTILL_CHECK(!in.bad(), jsonl, ": read error");
  DISTILL_CHECK(out != nullptr, jsonl, ": holds no samples");

  const int64_t vocab = options.vocab_size > 0 ? options.vocab_size : max_id + 1;
  if (kind == Kind::Classification) {
    const int64_t classes = options.num_classes > 0 ? options.num_classes : max_label + 1;
    DISTILL_CHECK(classes >= 2, jsonl, ": all labels are ", max_label,
                  "; classification needs at least 2 classes (set num_classes)");
    return out->finish(kTaskClassification, classes, vocab);
  }
  return out->finish(kTaskLanguageModeling, 0, vocab);
}

}  // namespace distill::data
