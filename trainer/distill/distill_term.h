// The intermediate distillation terms the config can name
// (distill.terms[i].kind) and what each needs. Adding a term: one file with
// its per-sample function and one line in term_registry.cpp (and the name in
// common/config_checks.cpp).
//
//   const kd::TermKind& kind = kd::findTerm("hidden_mse", "distill.terms[0].kind");
//   torch::Tensor loss_b = kind.perSample(inputs);   // [B]
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"

namespace distill::kd {

// One term between one student layer and one teacher layer.
struct TermInputs {
  const config::DistillTerm& term;
  torch::Tensor student;         // hidden_states[i + 1] [B,T,Ds] or attentions[i] [B,Hs,T,T]
  torch::Tensor teacher;         // the same from the teacher
  torch::Tensor attention_mask;  // [B,T]
  torch::Tensor projection;      // [Dt,Ds], or undefined when the widths agree or the term needs none
  std::string field;             // "distill.terms[1]", for errors
};

struct TermKind {
  std::string name;
  bool reads_attentions = false;  // else hidden_states
  bool projects = false;          // needs a projection when the widths differ
  std::function<torch::Tensor(const TermInputs&)> perSample;  // [B] float32
};

// The term named `kind`; throws distill::Error naming `field` and the known
// names when there is none.
const TermKind& findTerm(const std::string& kind, const std::string& field);

// Names findTerm accepts, in registry order.
std::vector<std::string> termNames();

}  // namespace distill::kd
