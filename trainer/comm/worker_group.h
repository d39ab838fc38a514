// The data plane among workers: one c10d process group (Gloo on CPU, NCCL on
// CUDA builds), joined through the TCPStore the coordinator hosts. Every
// collective has a timeout, and every rank calls them in the same order.
// This directory is the only place that knows the LibTorch version.
//
//   auto group = WorkerGroup::connect({host, port, worker, workers, "gloo", 120s});
//   group->averageGradients(grads);      // one flat all-reduce
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

namespace distill::comm {

struct GroupOptions {
  std::string store_host;
  uint16_t store_port = 0;
  int rank = 0;  // worker index, 0..size-1
  int size = 1;
  std::string backend = "auto";  // auto | gloo | nccl
  bool single_node = true;        // every worker on the store's host: Gloo uses loopback
  std::chrono::milliseconds timeout{120000};
};

enum class Reduce { Sum, Min, Max };

class WorkerGroup {
 public:
  static std::unique_ptr<WorkerGroup> connect(const GroupOptions& options);
  virtual ~WorkerGroup() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;
  // Replaces each tensor by its mean over the workers, with one flat all-reduce.
  virtual void averageGradients(const std::vector<at::Tensor>& grads) = 0;
  // In-place all-reduce of one tensor.
  virtual void allreduce(at::Tensor& tensor, Reduce op) = 0;
  // In-place broadcast of `tensor` from worker `root`.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  // The c10d group (for the gradient Reducer, gradient_sync.h); null for a single worker.
  virtual c10::intrusive_ptr<c10d::ProcessGroup> processGroup() const = 0;
  // The collective timeout every wait uses.
  virtual std::chrono::milliseconds timeout() const = 0;
};

// Starts a TCPStore server for the rendezvous on `port` (0: a free port) and
// returns a handle keeping it alive; `bound_port` receives the port.
std::shared_ptr<void> startStoreServer(uint16_t port, uint16_t* bound_port, int num_workers);

}  // namespace distill::comm
