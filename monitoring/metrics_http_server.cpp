#include "monitoring/metrics_http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace distill::monitoring {
namespace {

void sendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the scraper went away; nothing to do
    sent += static_cast<size_t>(n);
  }
}

std::string response(const char* status, const char* type, const std::string& body) {
  return std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

MetricsHttpServer::MetricsHttpServer(const std::string& address, uint16_t port, Render render)
    : render_(std::move(render)) {
  const std::string where = address + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
  DISTILL_CHECK(rc == 0, "metrics.address: cannot listen on ", where, ": ", ::gai_strerror(rc),
                " (give a numeric IPv4 or IPv6 address)");
  listen_fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool bound = listen_fd_ >= 0 && ::bind(listen_fd_, found->ai_addr, found->ai_addrlen) == 0 &&
                     ::listen(listen_fd_, 16) == 0;
  const int err = errno;
  ::freeaddrinfo(found);
  if (!bound) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    DISTILL_FAIL("metrics endpoint: cannot listen on ", where, " (", std::strerror(err),
                 "); free that port or set another metrics.port (0 picks a free one)");
  }
  sockaddr_storage bound_addr{};
  socklen_t len = sizeof(bound_addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound_addr), &len);
  port_ = ntohs(bound_addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound_addr)->sin6_port
                                                  : reinterpret_cast<sockaddr_in*>(&bound_addr)->sin_port);
  thread_ = std::thread([this] { serve(); });
}

MetricsHttpServer::~MetricsHttpServer() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void MetricsHttpServer::serve() {
  while (running_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;  // wake up regularly to notice shutdown
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    answer(client);
    ::close(client);
  }
}

void MetricsHttpServer::answer(int client) {
  // A scraper that sends nothing must not block the endpoint for long.
  timeval timeout{2, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  std::string request;
  char buffer[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
    const ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  const std::string line = request.substr(0, request.find("\r\n"));
  if (line.rfind("GET ", 0) != 0) {
    sendAll(client, response("405 Method Not Allowed", "text/plain", "only GET\n"));
    return;
  }
  const size_t path_end = line.find(' ', 4);
  const std::string path = line.substr(4, path_end == std::string::npos ? std::string::npos : path_end - 4);
  if (path != "/metrics" && path.rfind("/metrics?", 0) != 0) {
    sendAll(client, response("404 Not Found", "text/plain", "metrics are at /metrics\n"));
    return;
  }
  sendAll(client, response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_()));
}

}  // namespace distill::monitoring
