// `distill moefy`'s pass (docs/sparsity.md#moefication): the dense model
// becomes one whose every FFN is E experts of d_ff / E neurons, of which a
// router runs the top k per token (trainer/model/routed_ffn.h). It converts
// the built-in models (GELU FFNs) and the imported Llama-family decoders
// (SwiGLU); ffn_layout.h says what differs. Block by block, on this rank's
// calibration samples:
//
//   1. the co-activation of the FFN's neurons is counted and summed over
//      ranks, and the neurons are split into balanced experts
//      (co_activation.h); the FFN's rows and columns are permuted so each
//      expert's neurons are consecutive, which leaves the dense function
//      unchanged;
//   2. the router is fitted to the experts' shares of the activation
//      (router_fit.h);
//   3. the calibration hidden states move on through the block as it now
//      computes (top-k experts), so later routers see what they will see.
//
//   torch::jit::Module moe = expertsModel(dense, "model.pt", 8, 2);
//   MoefyReport r = moefyLayerwise(moe, calibration, my_samples, options, collective, log);
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/data/dataset.h"
#include "trainer/moe/router_fit.h"
#include "trainer/prune/layerwise.h"

namespace distill::moe {

// A copy of the dense model `dense` (loaded from `path`: built-in, or an
// imported Llama-family decoder) with `experts` experts per FFN and top-k
// routing (zero routers until moefyLayerwise fits them); with top_k = experts
// it computes what `dense` computes. distill::Error naming the path, the layer
// or the option when the model is not one moefy converts, is routed already,
// or a layer's neurons do not split into `experts` equal experts.
torch::jit::Module expertsModel(const torch::jit::Module& dense, const std::string& path, int64_t experts,
                                int64_t top_k);

struct MoefyOptions {
  int64_t batch_size = 8;
  // "co-activation" (MoEfication's split) or "random": neurons dealt to the
  // experts by a seeded permutation, the baseline the paper compares with.
  std::string split = "co-activation";
  RouterOptions router;
};

struct MoefiedLayer {
  std::string name;            // "layer0"
  int64_t expert_width = 0;    // neurons per expert
  double co_activation = 0;    // fraction of the co-activation counts inside experts (a little above 1/E for a random split: the diagonal is inside)
  double router_loss = 0;      // the router's final cross-entropy
  double recall = 0;           // activation (ffn_layout.h, magnitude) of the routed experts / of the k best, over tokens
  double relative_error = 0;   // ||FFN(x) - MoE(x)|| / ||FFN(x)|| on the calibration tokens
};

struct MoefyReport {
  std::vector<MoefiedLayer> layers;
  int64_t tokens = 0;  // calibration tokens, over every rank
};

// Fits `model` (from expertsModel) in place; `samples`: this rank's
// calibration sample ids; `collective` as in `distill prune` (sums over ranks,
// broadcasts from the root). `progress` gets one line per block.
MoefyReport moefyLayerwise(torch::jit::Module& model, const data::ShardedDataset& calibration,
                           const std::vector<uint64_t>& samples, const MoefyOptions& options,
                           const prune::Collective& collective, const std::function<void(const std::string&)>& progress);

// FFN parameters a token uses over those of the dense FFN, routers included.
double activeFfnFraction(const torch::jit::Module& model);

}  // namespace distill::moe
