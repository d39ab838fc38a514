// The HTTP side of /metrics: a small single-threaded server that answers
// `GET /metrics` with the text exposition of a JobMetrics registry.
//
// Why not prometheus-cpp's Exposer: its civetweb server fails to start
// ("Cannot create threads") in a process that has Debian's LibTorch loaded,
// and the `distill` binary always has. Registry, metric types and the text
// serializer are still prometheus-cpp's; only the socket loop is ours.
// One connection at a time is plenty for a Prometheus scrape every few seconds.
//
//   MetricsHttpServer server("127.0.0.1", 0, [&] { return metrics.exposition(); });
//   uint16_t port = server.port();
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace distill::monitoring {

class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;
  // Binds and listens on address:port (port 0 picks a free one), then serves on
  // a background thread. distill::Error naming address:port if binding fails.
  MetricsHttpServer(const std::string& address, uint16_t port, Render render);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  void serve();
  void answer(int client);

  Render render_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

}  // namespace distill::monitoring
