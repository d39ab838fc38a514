#include "monitoring/metrics_http_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../http_client.h"

namespace distill::monitoring {
namespace {

using testing::httpRequest;

TEST(MetricsHttpServer, AnswersGetMetricsWithTheRenderedTextEveryTime) {
  std::atomic<int> renders{0};
  MetricsHttpServer server("127.0.0.1", 0, [&] { return "up " + std::to_string(++renders) + "\n"; });
  ASSERT_GT(server.port(), 0);
  const std::string first = httpRequest(server.port(), "/metrics");
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
  EXPECT_NE(first.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << first;
  EXPECT_NE(first.find("Content-Length: 5\r\n"), std::string::npos) << first;
  EXPECT_EQ(first.substr(first.size() - 5), "up 1\n");
  const std::string second = httpRequest(server.port(), "/metrics");
  EXPECT_EQ(second.substr(second.size() - 5), "up 2\n");  // rendered per scrape, not cached
}

TEST(MetricsHttpServer, OtherPathsAndMethodsAreRefused) {
  MetricsHttpServer server("127.0.0.1", 0, [] { return std::string("x 1\n"); });
  EXPECT_EQ(httpRequest(server.port(), "/").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(httpRequest(server.port(), "/metrics", "POST").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(httpRequest(server.port(), "/metrics?x=1").rfind("HTTP/1.1 200", 0), 0u);
}

int connectTo(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// 200 clients that connect and send nothing and 10 that send a byte every
// 100 ms do not delay a scrape (one thread answering one client at a time
// with a 2 s receive timeout took minutes here), and the endpoint drops them
// at their deadline.
TEST(MetricsHttpServer, IdleAndTricklingClientsDoNotBlockAScrape) {
  MetricsHttpServer server("127.0.0.1", 0, [] { return std::string("up 1\n"); });
  std::vector<int> idle, trickling;
  for (int i = 0; i < 200; ++i) idle.push_back(connectTo(server.port()));
  for (int i = 0; i < 10; ++i) trickling.push_back(connectTo(server.port()));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
    for (size_t k = 0; k < request.size() - 2 && !stop; ++k) {  // never completes the request
      for (int fd : trickling) ::send(fd, request.data() + k, 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int scrape = 0; scrape < 3; ++scrape) {
    const auto started = std::chrono::steady_clock::now();
    const std::string r = httpRequest(server.port(), "/metrics");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK", 0), 0u) << r;
    EXPECT_LT(seconds, 1.0) << "scrape " << scrape;
  }
  // Past the deadline the idle clients are closed by the server (recv sees the end).
  timeval wait{static_cast<time_t>(MetricsHttpServer::kDeadlineSeconds) + 3, 0};
  ::setsockopt(idle[0], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  char byte;
  EXPECT_EQ(::recv(idle[0], &byte, 1, 0), 0);
  stop = true;
  trickle.join();
  for (int fd : idle) ::close(fd);
  for (int fd : trickling) ::close(fd);
}

TEST(MetricsHttpServer, ABadAddressIsAnErrorNamingIt) {
  try {
    MetricsHttpServer server("localhost-not-numeric", 0, [] { return std::string(); });
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("localhost-not-numeric:0"), std::string::npos) << e.what();
  }
}

TEST(MetricsHttpServer, ListensOnIpv6Loopback) {
  MetricsHttpServer server("::1", 0, [] { return std::string("x 1\n"); });
  EXPECT_GT(server.port(), 0);
}

}  // namespace
}  // namespace distill::monitoring
