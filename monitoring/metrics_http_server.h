// The HTTP side of /metrics: a small single-threaded server that answers
// `GET /metrics` with the text exposition of a JobMetrics registry.
//
// Why not prometheus-cpp's Exposer: its civetweb server fails to start
// ("Cannot create threads") in a process that has Debian's LibTorch loaded,
// and the `distill` binary always has. Registry, metric types and the text
// serializer are still prometheus-cpp's; only the socket loop is ours.
//
// One thread, non-blocking sockets and poll(): any number of connections are
// served at once (up to kMaxConnections; beyond, the oldest is dropped), and
// each has kDeadlineSeconds from accept to the end of its response, so idle or
// trickling clients cannot hold the endpoint (docs/metrics.md).
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
  static constexpr size_t kMaxConnections = 512;
  static constexpr double kDeadlineSeconds = 5.0;  // from accept to the last byte of the response
  // Binds and listens on address:port (port 0 picks a free one), then serves on
  // a background thread. distill::Error naming address:port if binding fails.
  MetricsHttpServer(const std::string& address, uint16_t port, Render render);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  void serve();
  // The whole response to `request` (its head up to the blank line).
  std::string answer(const std::string& request);

  Render render_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

}  // namespace distill::monitoring
