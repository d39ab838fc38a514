#include "monitoring/metrics_http_server.h"

#include <gtest/gtest.h>

#include <atomic>

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
