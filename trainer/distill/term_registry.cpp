// The intermediate terms the config can name. Adding one: one line in kTerms.
#include "common/error.h"
#include "trainer/distill/attention_mse.h"
#include "trainer/distill/cka.h"
#include "trainer/distill/cosine_loss.h"
#include "trainer/distill/distill_term.h"
#include "trainer/distill/hidden_state_mse.h"
#include "trainer/distill/infonce.h"
#include "trainer/distill/sentence_representation.h"

namespace distill::kd {
namespace {

torch::Tensor sentence(const torch::Tensor& hidden, const TermInputs& in) {
  return maskedMean(hidden, in.attention_mask);
}

const std::vector<TermKind>& registry() {
  // {name, reads_attentions, projects, per-sample loss}
  static const std::vector<TermKind> kTerms = {
      {"hidden_mse", false, true,
       [](const TermInputs& in) { return hiddenStateMSE(in.student, in.teacher, in.attention_mask, in.projection); }},
      // Given hidden_states[0] by the "embeddings" layer choice: embeddingMSE on the selected layer.
      {"embedding_mse", false, true,
       [](const TermInputs& in) { return hiddenStateMSE(in.student, in.teacher, in.attention_mask, in.projection); }},
      {"attention_mse", true, false,
       [](const TermInputs& in) {
         return attentionMSE(in.student, in.teacher, in.attention_mask,
                             attentionHeadsFromName(in.term.attention_heads(), in.field + ".attention_heads"));
       }},
      {"cka", false, false,
       [](const TermInputs& in) { return ckaLoss(sentence(in.student, in), sentence(in.teacher, in)); }},
      {"infonce", false, true,
       [](const TermInputs& in) {
         return infoNCE(sentence(in.student, in), sentence(in.teacher, in), in.projection, in.term.temperature());
       }},
      {"cosine", false, true,
       [](const TermInputs& in) { return cosineLoss(sentence(in.student, in), sentence(in.teacher, in), in.projection); }},
  };
  return kTerms;
}

}  // namespace

const TermKind& findTerm(const std::string& kind, const std::string& field) {
  for (const TermKind& t : registry()) {
    if (t.name == kind) return t;
  }
  std::string known;
  for (const std::string& name : termNames()) known += (known.empty() ? "" : ", ") + name;
  DISTILL_FAIL(field, ": unknown term \"", kind, "\" (known: ", known, ")");
}

std::vector<std::string> termNames() {
  std::vector<std::string> names;
  for (const TermKind& t : registry()) names.push_back(t.name);
  return names;
}

}  // namespace distill::kd
