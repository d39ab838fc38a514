// The boundary between distill and libsentencepiece.
//
// Debian's libsentencepiece carries its own copy of protobuf-lite and exports
// its symbols; linked into a program that also uses the system libprotobuf
// (the control plane, LibTorch), the two copies interpose each other and the
// program crashes while loading. So libsentencepiece is only linked into a
// small module, `libdistill_sentencepiece.so`, which distill opens at run time
// with RTLD_LOCAL | RTLD_DEEPBIND: the module and its libsentencepiece bind to
// their own protobuf, the rest of the process to the system's.
//
// The module exports one C function returning this table. Only standard
// library types cross it (one libstdc++ in the process); no exception does.
// Caveat of RTLD_DEEPBIND: an allocator interposed with LD_PRELOAD (tcmalloc,
// jemalloc, a sanitizer's) is bypassed inside the module, so strings built
// there may be freed by another allocator; don't preload one with .model tokenizers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace distill::text::sentencepiece_module {

struct Model;  // a loaded SentencePieceProcessor

struct Api {
  // nullptr and `error` set when `path` is not a SentencePiece model.
  Model* (*load)(const char* path, std::string* error);
  void (*free)(Model* model);
  // false and `error` set when the library refuses the text.
  bool (*encode)(const Model* model, std::string_view text, std::vector<int>* ids, std::string* error);
  int (*pieceCount)(const Model* model);
  // The piece of `id`, and whether it is a control or unknown piece ("<s>", "<unk>").
  std::string (*piece)(const Model* model, int id);
  bool (*isSpecial)(const Model* model, int id);
  int (*pieceToId)(const Model* model, std::string_view piece);  // the unknown id when absent
  int (*bosId)(const Model* model);                                // -1 when none
  int (*eosId)(const Model* model);
};

}  // namespace distill::text::sentencepiece_module

// The module's one export.
extern "C" const distill::text::sentencepiece_module::Api* distill_sentencepiece_api();
