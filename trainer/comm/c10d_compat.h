// LibTorch-version shim for c10d (only comm/ knows the LibTorch version): the
// few things Debian's LibTorch 1.13 and the 2.x of a pip torch spell
// differently, so the rest of comm/ reads the same against both.
//
//   auto pg = compat::asProcessGroup(gloo, store, rank, size, "gloo", {CPU, CUDA});
//   auto reducer = compat::makeReducer<c10d::Reducer>(params, buckets, limits, pg, ...);
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <c10/core/DeviceType.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/version.h>

namespace distill::comm::compat {

// The process group collectives run on. In 1.13 ProcessGroupGloo and
// ProcessGroupNCCL are c10d::ProcessGroups themselves. From 2.0 they are
// c10d::Backends: a ProcessGroup sends each collective to the backend
// registered for its tensors' device type, and torch.distributed builds one
// per group the way this does (gloo serves CPU and CUDA tensors, nccl CUDA
// ones). `name`: "gloo" or "nccl".
template <typename BackendT>
c10::intrusive_ptr<c10d::ProcessGroup> asProcessGroup(c10::intrusive_ptr<BackendT> backend,
                                                      const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                      int size, const std::string& name,
                                                      std::initializer_list<c10::DeviceType> devices) {
#if TORCH_VERSION_MAJOR >= 2
  using Type = c10d::ProcessGroup::BackendType;
  const Type type = name == "nccl" ? Type::NCCL : Type::GLOO;
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
  group->setDefaultBackend(type);  // what getBackendName() reports
  const c10::intrusive_ptr<c10d::Backend> as_backend = std::move(backend);
  for (const c10::DeviceType device : devices) group->setBackend(device, type, as_backend);
  group->setGroupName("workers");  // as init_process_group names its groups (logs and NCCL's flight recorder)
  return group;
#else
  (void)store, (void)rank, (void)size, (void)name, (void)devices;
  return backend;
#endif
}

// The variable that makes ProcessGroupNCCL give up on a collective a dead peer
// never joins (1: abort the communicator, then the process) instead of hanging;
// 2.2 renamed it (the old name still works there, with a warning).
#if TORCH_VERSION_MAJOR >= 2
constexpr const char* kNcclAsyncErrorHandling = "TORCH_NCCL_ASYNC_ERROR_HANDLING";
#else
constexpr const char* kNcclAsyncErrorHandling = "NCCL_ASYNC_ERROR_HANDLING";
#endif

template <typename>
inline constexpr bool kNoSuchReducer = false;

// c10d::Reducer, built with the arguments this service passes. Its constructor
// differs by version: 1.13 takes per_bucket_size_limits third; 2.x dropped it
// and added, at the end, skip_all_reduce_unused_params and use_python_reducer,
// later bucket_bytes_cap_list. The added ones are passed off / empty, as
// DistributedDataParallel does by default (an empty cap list: rebuilt buckets
// use first_bucket_bytes_cap then bucket_bytes_cap, as before). Which
// constructor exists is decided at compile time; Reducer is a template
// parameter (pass c10d::Reducer) so this header need not include reducer.hpp,
// whose 1.13 copy needs the shim in comm/compat/.
template <typename Reducer>
std::unique_ptr<Reducer> makeReducer(std::vector<at::Tensor> params, std::vector<std::vector<size_t>> buckets,
                                     std::vector<size_t> per_bucket_size_limits,
                                     c10::intrusive_ptr<c10d::ProcessGroup> group, int64_t bucket_bytes_cap,
                                     bool find_unused_parameters, bool gradient_as_bucket_view,
                                     std::unordered_map<size_t, std::string> names, int64_t first_bucket_bytes_cap) {
  using Params = std::vector<at::Tensor>;
  using Buckets = std::vector<std::vector<size_t>>;
  using Limits = std::vector<size_t>;
  using Group = c10::intrusive_ptr<c10d::ProcessGroup>;
  using Sparse = std::vector<bool>;
  using Names = std::unordered_map<size_t, std::string>;
  using CapList = std::vector<int64_t>;
  Sparse sparse(params.size(), false);
  if constexpr (std::is_constructible_v<Reducer, Params, Buckets, Limits, Group, Sparse, int64_t, bool, bool, Names,
                                        int64_t>) {  // 1.13
    return std::make_unique<Reducer>(std::move(params), std::move(buckets), std::move(per_bucket_size_limits),
                                     std::move(group), std::move(sparse), bucket_bytes_cap, find_unused_parameters,
                                     gradient_as_bucket_view, std::move(names), first_bucket_bytes_cap);
  } else if constexpr (std::is_constructible_v<Reducer, Params, Buckets, Group, Sparse, int64_t, bool, bool, Names,
                                               int64_t, bool, bool, CapList>) {
    return std::make_unique<Reducer>(std::move(params), std::move(buckets), std::move(group), std::move(sparse),
                                     bucket_bytes_cap, find_unused_parameters, gradient_as_bucket_view,
                                     std::move(names), first_bucket_bytes_cap, /*skip_all_reduce_unused_params=*/false,
                                     /*use_python_reducer=*/false, /*bucket_bytes_cap_list=*/CapList{});
  } else if constexpr (std::is_constructible_v<Reducer, Params, Buckets, Group, Sparse, int64_t, bool, bool, Names,
                                               int64_t, bool, bool>) {
    return std::make_unique<Reducer>(std::move(params), std::move(buckets), std::move(group), std::move(sparse),
                                     bucket_bytes_cap, find_unused_parameters, gradient_as_bucket_view,
                                     std::move(names), first_bucket_bytes_cap, /*skip_all_reduce_unused_params=*/false,
                                     /*use_python_reducer=*/false);
  } else if constexpr (std::is_constructible_v<Reducer, Params, Buckets, Group, Sparse, int64_t, bool, bool, Names,
                                               int64_t>) {
    return std::make_unique<Reducer>(std::move(params), std::move(buckets), std::move(group), std::move(sparse),
                                     bucket_bytes_cap, find_unused_parameters, gradient_as_bucket_view,
                                     std::move(names), first_bucket_bytes_cap);
  } else {
    static_assert(kNoSuchReducer<Reducer>,
                  "c10d::Reducer has none of the constructors comm/c10d_compat.h knows: add this LibTorch's");
  }
}

}  // namespace distill::comm::compat
