// LibTorch-version shim (only comm/ knows the LibTorch version): Debian's
// libtorch-dev 1.13 ships c10d/reducer.hpp but not this header it includes.
// reducer.hpp needs two names from it: the gradient-callback type (for a
// static_assert) and the pointer type of a member we never touch (distributed
// autograd over RPC, which this service does not use). Both are declared here
// as LibTorch defines them, so the Reducer's layout is unchanged. CMake adds
// this directory only where the real header is missing.
#pragma once

#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

namespace torch::distributed::autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace torch::distributed::autograd
