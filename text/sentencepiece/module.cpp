// libdistill_sentencepiece.so: the only code linked against libsentencepiece (module.h says why).
#include "text/sentencepiece/module.h"

#include <sentencepiece_processor.h>

namespace distill::text::sentencepiece_module {

struct Model {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

Model* load(const char* path, std::string* error) {
  auto model = new Model;
  const auto status = model->processor.Load(path);
  if (!status.ok()) {
    *error = status.ToString();
    delete model;
    return nullptr;
  }
  return model;
}

void release(Model* model) { delete model; }

bool encode(const Model* model, std::string_view text, std::vector<int>* ids, std::string* error) {
  const auto status = model->processor.Encode(text, ids);
  if (!status.ok()) *error = status.ToString();
  return status.ok();
}

int pieceCount(const Model* model) { return model->processor.GetPieceSize(); }
std::string piece(const Model* model, int id) { return model->processor.IdToPiece(id); }
bool isSpecial(const Model* model, int id) { return model->processor.IsControl(id) || model->processor.IsUnknown(id); }
int pieceToId(const Model* model, std::string_view p) { return model->processor.PieceToId(p); }
int bosId(const Model* model) { return model->processor.bos_id(); }
int eosId(const Model* model) { return model->processor.eos_id(); }

constexpr Api kApi{load, release, encode, pieceCount, piece, isSpecial, pieceToId, bosId, eosId};

}  // namespace
}  // namespace distill::text::sentencepiece_module

extern "C" __attribute__((visibility("default"))) const distill::text::sentencepiece_module::Api*
distill_sentencepiece_api() {
  return &distill::text::sentencepiece_module::kApi;
}
