#include "trainer/comm/worker_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>
#ifdef DISTILL_WITH_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <unistd.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "trainer/comm/c10d_compat.h"

namespace distill::comm {
namespace {

c10d::ReduceOp toC10d(Reduce op) {
  switch (op) {
    case Reduce::Sum: return c10d::ReduceOp::SUM;
    case Reduce::Min: return c10d::ReduceOp::MIN;
    case Reduce::Max: return c10d::ReduceOp::MAX;
  }
  return c10d::ReduceOp::SUM;
}

std::string localHostName() {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

// One worker: every collective is the identity, so none is run.
class SoloGroup final : public WorkerGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "none"; }
  void averageGradients(const std::vector<at::Tensor>&) override {}
  void allreduce(at::Tensor&, Reduce) override {}
  void broadcast(at::Tensor&, int) override {}
  c10::intrusive_ptr<c10d::ProcessGroup> processGroup() const override { return {}; }
  std::chrono::milliseconds timeout() const override { return std::chrono::milliseconds(0); }
};

class C10dGroup final : public WorkerGroup {
 public:
  C10dGroup(c10::intrusive_ptr<c10d::ProcessGroup> pg, std::string backend, std::chrono::milliseconds timeout)
      : pg_(std::move(pg)), backend_(std::move(backend)), timeout_(timeout) {}

  int rank() const override { return pg_->getRank(); }
  int size() const override { return pg_->getSize(); }
  std::string backend() const override { return backend_; }

  void averageGradients(const std::vector<at::Tensor>& grads) override {
    if (grads.empty()) return;
    std::vector<at::Tensor> flat_parts;
    flat_parts.reserve(grads.size());
    for (const auto& g : grads) flat_parts.push_back(g.reshape({-1}));
    at::Tensor flat = torch::cat(flat_parts);
    allreduce(flat, Reduce::Sum);
    flat.div_(static_cast<double>(size()));
    int64_t offset = 0;
    for (const auto& g : grads) {
      const int64_t n = g.numel();
      g.copy_(flat.narrow(0, offset, n).view_as(g));
      offset += n;
    }
  }

  void allreduce(at::Tensor& tensor, Reduce op) override {
    c10d::AllreduceOptions options;
    options.reduceOp = toC10d(op);
    options.timeout = timeout_;
    run("all-reduce", tensor, [&](std::vector<at::Tensor>& t) { return pg_->allreduce(t, options); });
  }

  void broadcast(at::Tensor& tensor, int root) override {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    options.timeout = timeout_;
    run("broadcast", tensor, [&](std::vector<at::Tensor>& t) { return pg_->broadcast(t, options); });
  }

  c10::intrusive_ptr<c10d::ProcessGroup> processGroup() const override { return pg_; }
  std::chrono::milliseconds timeout() const override { return timeout_; }

 private:
  // Runs one collective on `tensor` in place and waits for it, within the timeout.
  template <typename Launch>
  void run(const char* what, at::Tensor& tensor, Launch launch) {
    // NCCL reduces GPU tensors only; small CPU tensors (checksums, eval totals) take a round trip.
    if (backend_ == "nccl" && !tensor.is_cuda()) {
      at::Tensor on_gpu = tensor.to(torch::kCUDA);
      run(what, on_gpu, launch);
      tensor.copy_(on_gpu);
      return;
    }
    std::vector<at::Tensor> tensors{tensor};
    const double started = clock::monotonicSeconds();
    try {
      launch(tensors)->wait(timeout_);
    } catch (const std::exception& e) {
      const double waited = clock::monotonicSeconds() - started, limit = timeout_.count() / 1000.0;
      DISTILL_FAIL(what, " among workers ", waited < limit ? "failed" : "timed out", " after ", waited,
                   " s (runtime.collective_timeout_seconds = ", limit, ") on worker ", rank(),
                   waited < limit ? " (a peer's connection closed: did another rank die?)" : "", ": ", e.what());
    }
  }

  c10::intrusive_ptr<c10d::ProcessGroup> pg_;
  std::string backend_;
  std::chrono::milliseconds timeout_;
};

std::string chooseBackend(const std::string& requested) {
#ifdef DISTILL_WITH_CUDA
  if (requested == "auto") return torch::cuda::is_available() ? "nccl" : "gloo";
  return requested;
#else
  DISTILL_CHECK(requested != "nccl",
                "runtime.backend: nccl needs a build with -DDISTILL_WITH_CUDA=ON; this build is CPU-only");
  return "gloo";
#endif
}

}  // namespace

std::unique_ptr<WorkerGroup> WorkerGroup::connect(const GroupOptions& o) {
  const std::string backend = chooseBackend(o.backend);
  // One worker runs no collective, unless NCCL was asked for by name: then a
  // one-rank NCCL group runs them, which proves the NCCL path on one GPU.
  if (o.size == 1 && !(backend == "nccl" && o.backend == "nccl")) return std::make_unique<SoloGroup>();
  // On one node everything goes over loopback, so a host name that does not
  // resolve to a routable address still works; across nodes Gloo binds the
  // address of this host's name (or GLOO_SOCKET_IFNAME) and peers learn it.
  const std::string host = o.single_node ? "127.0.0.1" : o.store_host;
  c10d::TCPStoreOptions store_options;
  store_options.port = o.store_port;
  store_options.isServer = false;
  store_options.timeout = o.timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(host, store_options);
  } catch (const std::exception& e) {
    DISTILL_FAIL("worker ", o.rank, " cannot reach the rendezvous store at ", host, ":", o.store_port, ": ", e.what());
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("workers", store);
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
#ifdef DISTILL_WITH_CUDA
  if (backend == "nccl") {
    // Without this a dead peer hangs an NCCL wait forever (the timeout applies only with it).
    ::setenv(compat::kNcclAsyncErrorHandling, "1", /*overwrite=*/0);
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = o.timeout;
    pg = compat::asProcessGroup(c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, o.rank, o.size, options),
                                prefixed, o.rank, o.size, "nccl", {c10::DeviceType::CUDA});
  }
#endif
  if (!pg) {
    auto options = c10d::ProcessGroupGloo::Options::create(o.timeout);
    const char* iface = std::getenv("GLOO_SOCKET_IFNAME");
    options->devices.push_back(iface ? c10d::ProcessGroupGloo::createDeviceForInterface(iface)
                                     : c10d::ProcessGroupGloo::createDeviceForHostname(
                                           o.single_node ? "127.0.0.1" : localHostName()));
    options->threads = 1;
    pg = compat::asProcessGroup(c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, o.rank, o.size, options),
                                prefixed, o.rank, o.size, "gloo", {c10::DeviceType::CPU, c10::DeviceType::CUDA});
  }
  return std::make_unique<C10dGroup>(pg, backend, o.timeout);
}

std::shared_ptr<void> startStoreServer(uint16_t port, uint16_t* bound_port, int num_workers) {
  c10d::TCPStoreOptions options;
  options.port = port;
  options.isServer = true;
  options.numWorkers.reset();  // c10::optional in 1.13, std::optional in 2.x
  options.waitWorkers = false;
  (void)num_workers;
  auto store = std::make_shared<c10d::TCPStore>("0.0.0.0", options);
  *bound_port = store->getPort();
  return store;
}

}  // namespace distill::comm
