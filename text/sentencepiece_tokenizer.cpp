#include "text/sentencepiece_tokenizer.h"

#include <dlfcn.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "text/sentencepiece/module.h"
#include "text/token_match.h"

#ifndef DISTILL_MODULE_DIR
#define DISTILL_MODULE_DIR ""
#endif

namespace distill::text {
namespace {

namespace spm = sentencepiece_module;
constexpr const char* kModuleName = "libdistill_sentencepiece.so";

// The module's table, opened once (module.h: why it is a module). Looked for in
// $DISTILL_SENTENCEPIECE_MODULE, beside the running program, then in the build tree.
const spm::Api& moduleApi() {
  static const spm::Api* api = nullptr;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("DISTILL_SENTENCEPIECE_MODULE")) candidates.emplace_back(env);
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back((exe.parent_path() / kModuleName).string());
    if (*DISTILL_MODULE_DIR) candidates.push_back((std::filesystem::path(DISTILL_MODULE_DIR) / kModuleName).string());
    for (const auto& path : candidates) {
      if (!std::filesystem::exists(path)) continue;
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (!handle) {
        failure += "\n  " + path + ": " + dlerror();
        continue;
      }
      auto entry = reinterpret_cast<const spm::Api* (*)()>(dlsym(handle, "distill_sentencepiece_api"));
      if (!entry) {
        failure += "\n  " + path + ": no distill_sentencepiece_api";
        continue;
      }
      api = entry();
      return;
    }
    failure += "\n  looked in: $DISTILL_SENTENCEPIECE_MODULE, beside the program, " + std::string(DISTILL_MODULE_DIR);
  });
  DISTILL_CHECK(api != nullptr, "SentencePiece: cannot open ", kModuleName, " (built with distill):", failure);
  return *api;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::string& path) : path_(path), api_(moduleApi()) {
    std::string error;
    model_ = api_.load(path.c_str(), &error);
    DISTILL_CHECK(model_ != nullptr, path, ": not a SentencePiece model: ", error);
    for (int id = 0; id < api_.pieceCount(model_); ++id) {
      if (api_.isSpecial(model_, id) && !api_.piece(model_, id).empty()) {
        special_pieces_.push_back(api_.piece(model_, id));
        special_ids_.push_back(id);
      }
    }
    add_bos_ = api_.bosId(model_) >= 0;
    readTokenizerConfig(std::filesystem::path(path).parent_path() / "tokenizer_config.json");
  }
  ~SentencePieceTokenizer() override { api_.free(model_); }
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const override {
    std::vector<int64_t> ids;
    if (add_special_tokens && add_bos_) ids.push_back(api_.bosId(model_));
    size_t pos = 0;
    std::vector<int> piece_ids;
    std::string error;
    while (pos < text.size()) {
      const TokenMatch next = nextToken(text, pos, special_pieces_);
      const size_t end = next.found() ? next.at : text.size();
      if (end > pos) {
        DISTILL_CHECK(api_.encode(model_, std::string_view(text).substr(pos, end - pos), &piece_ids, &error), path_,
                      ": SentencePiece cannot encode the text: ", error);
        ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
      }
      if (next.found()) ids.push_back(special_ids_[next.index]);
      pos = next.found() ? next.at + special_pieces_[next.index].size() : text.size();
    }
    if (add_special_tokens && add_eos_) ids.push_back(api_.eosId(model_));
    return ids;
  }

  int64_t vocabSize() const override { return api_.pieceCount(model_); }

  std::optional<int64_t> tokenId(const std::string& token) const override {
    const int id = api_.pieceToId(model_, token);
    if (id < 0 || api_.piece(model_, id) != token) return std::nullopt;
    return id;
  }

 private:
  void readTokenizerConfig(const std::filesystem::path& config) {
    if (!std::filesystem::is_regular_file(config)) return;
    std::ifstream in(config);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      DISTILL_FAIL(config.string(), ": not valid JSON: ", e.what());
    }
    for (auto [key, into] : {std::pair{"add_bos_token", &add_bos_}, std::pair{"add_eos_token", &add_eos_}}) {
      if (!j.contains(key) || j.at(key).is_null()) continue;
      DISTILL_CHECK(j.at(key).is_boolean(), config.string(), ": ", key, " must be true or false");
      *into = j.at(key).get<bool>();
    }
    DISTILL_CHECK(!add_bos_ || api_.bosId(model_) >= 0, config.string(), ": add_bos_token is true but ", path_,
                  " has no BOS piece");
    DISTILL_CHECK(!add_eos_ || api_.eosId(model_) >= 0, config.string(), ": add_eos_token is true but ", path_,
                  " has no EOS piece");
  }

  std::string path_;
  const spm::Api& api_;
  spm::Model* model_ = nullptr;
  std::vector<std::string> special_pieces_;  // control and unknown pieces ("<s>", "<unk>"), matched in the text
  std::vector<int64_t> special_ids_;
  bool add_bos_ = false, add_eos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> loadSentencePieceTokenizer(const std::string& path) {
  return std::make_unique<SentencePieceTokenizer>(path);
}

}  // namespace distill::text
