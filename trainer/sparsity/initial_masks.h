// sparsity.masks: the masks a fresh run starts from, read from a
// masks.safetensors as `distill prune` writes it (per tensor, uint8 or bool,
// 1 = kept). With the "fixed" schedule they are the run's masks throughout,
// so a one-shot pruned model recovers by distillation with exactly its
// pruned entries at 0, whatever its pattern (docs/sparsity.md, Recovery).
//
//   auto loaded = sparsity::readInitialMasks(spec.masks());
//   spec.add_include(...exactPattern(name) for each loaded name) when include is empty;
//   sparsity::checkInitialMasks(loaded, params, spec.masks());         // names and shapes
//   sparsity::checkInitialSelection(loaded, mask_set, spec.masks());  // the same tensors selected
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/sparsity/mask_set.h"

namespace distill::sparsity {

// Every tensor of the file, as bool. Errors name the file and the tensor: a
// dtype other than uint8/bool, a value other than 0 or 1.
std::map<std::string, torch::Tensor> readInitialMasks(const std::string& path);

// The regular expression that selects exactly the parameter `name`.
std::string exactPattern(const std::string& name);

// Every mask must be of a parameter of the model, with its shape; then the
// selected parameters and the masks must name the same tensors. Errors name
// `path` and the tensor.
void checkInitialMasks(const std::map<std::string, torch::Tensor>& masks, const std::vector<NamedTensor>& params,
                       const std::string& path);
void checkInitialSelection(const std::map<std::string, torch::Tensor>& masks, const MaskSet& selected,
                           const std::string& path);

// Fraction of zeros over all the masks.
double sparsityOf(const std::map<std::string, torch::Tensor>& masks);

}  // namespace distill::sparsity
