#include "monitoring/metrics_http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace distill::monitoring {
namespace {

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
  listen_fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);  // accept() in a loop until EAGAIN
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool bound = listen_fd_ >= 0 && ::bind(listen_fd_, found->ai_addr, found->ai_addrlen) == 0 &&
                     ::listen(listen_fd_, 256) == 0;
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

namespace {

struct Connection {
  int fd = -1;
  double deadline = 0;
  std::string in, out;  // the request so far; the response once it is complete
  size_t sent = 0;
  bool responding = false;
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

void MetricsHttpServer::serve() {
  std::vector<Connection> open;
  std::vector<pollfd> polled;
  char buffer[4096];
  while (running_) {
    polled.assign(1, pollfd{listen_fd_, POLLIN, 0});
    for (const Connection& c : open) polled.push_back({c.fd, static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
    ::poll(polled.data(), polled.size(), 100);  // wake up regularly for deadlines and shutdown
    const double t = now();
    for (size_t i = 0; i < open.size(); ++i) {
      Connection& c = open[i];
      const short events = polled[i + 1].revents;
      if (!c.responding && (events & (POLLIN | POLLHUP | POLLERR))) {
        const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          c.deadline = 0;  // the client went away
        } else if (n > 0) {
          c.in.append(buffer, static_cast<size_t>(n));
          if (c.in.find("\r\n\r\n") != std::string::npos || c.in.size() >= 16384) {
            c.out = answer(c.in);
            c.responding = true;
          }
        }
      } else if (c.responding && (events & (POLLOUT | POLLHUP | POLLERR))) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) c.sent += static_cast<size_t>(n);
        if (c.sent == c.out.size() || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          c.deadline = 0;  // done, or the scraper went away
        }
      }
    }
    // Drop what is done or past its deadline.
    for (size_t i = 0; i < open.size();) {
      if (open[i].deadline <= t) {
        ::close(open[i].fd);
        open[i] = std::move(open.back());
        open.pop_back();
      } else {
        ++i;
      }
    }
    if (polled[0].revents & POLLIN) {
      for (;;) {
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) break;
        if (open.size() >= kMaxConnections) {  // a flood: the oldest makes room
          auto oldest = std::min_element(open.begin(), open.end(),
                                         [](const Connection& a, const Connection& b) { return a.deadline < b.deadline; });
          ::close(oldest->fd);
          open.erase(oldest);
        }
        Connection c;
        c.fd = client;
        c.deadline = t + kDeadlineSeconds;
        open.push_back(std::move(c));
      }
    }
  }
  for (const Connection& c : open) ::close(c.fd);
}

std::string MetricsHttpServer::answer(const std::string& request) {
  const std::string line = request.substr(0, request.find("\r\n"));
  if (line.rfind("GET ", 0) != 0) return response("405 Method Not Allowed", "text/plain", "only GET\n");
  const size_t path_end = line.find(' ', 4);
  const std::string path = line.substr(4, path_end == std::string::npos ? std::string::npos : path_end - 4);
  if (path != "/metrics" && path.rfind("/metrics?", 0) != 0) {
    return response("404 Not Found", "text/plain", "metrics are at /metrics\n");
  }
  return response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_());
}

}  // namespace distill::monitoring
