// Which student layer learns from which teacher layer, for the intermediate
// terms (hidden-state MSE, attention MSE, CKA, InfoNCE, cosine).
//
//   kd::uniformLayerMap(3, 12);   // {3, 7, 11}: student layer i <- teacher layer round((i+1)*12/3) - 1
//   for (kd::LayerPair p : kd::layerPairs(term, "distill.terms[0]", 3, 12, "big")) ...
//
// Layers are 0-based transformer layers, the embeddings not counted:
// transformer layer i is hidden_states[i + 1] and attentions[i]. The
// embeddings are layer -1 (hidden_states[0]), used by embedding_mse.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace distill::kd {

// Layer index of the embeddings (hidden_states[0]).
constexpr int64_t kEmbeddingLayer = -1;

struct LayerPair {
  int64_t student = 0;
  int64_t teacher = 0;
};

// For each student layer i in [0, student_layers), the teacher layer
// round((i+1) * teacher_layers / student_layers) - 1 (halves round up), at
// least 0: the student's last layer always learns from the teacher's last,
// and the others spread evenly below it (TinyBERT's uniform strategy).
// Throws distill::Error unless both counts are >= 1.
std::vector<int64_t> uniformLayerMap(int64_t student_layers, int64_t teacher_layers);

// The pairs of one term against one teacher, from term.layers():
// "uniform" (uniformLayerMap), "last" (last <- last), "explicit"
// (term.layer_map, checked against both depths) or "embeddings" (the one pair
// {-1, -1}). `field` names the term in errors ("distill.terms[1]"), `teacher`
// the teacher. Throws distill::Error, e.g.
//   distill.terms[1].layer_map[0].student: 5 is out of range (student has 2 layers)
std::vector<LayerPair> layerPairs(const config::DistillTerm& term, const std::string& field,
                                  int64_t student_layers, int64_t teacher_layers, const std::string& teacher);

}  // namespace distill::kd
