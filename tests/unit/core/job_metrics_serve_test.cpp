// JobMetrics against real peers: an HTTP client on a socket, and promtool.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "../http_client.h"
#include "../scratch_dir.h"
#include "common/error.h"
#include "monitoring/job_metrics.h"

namespace distill::monitoring {
namespace {

using testing::httpGet;

// A listening socket on 127.0.0.1 with a free port, held until destroyed.
struct BusyPort {
  int fd = -1;
  uint16_t port = 0;
  BusyPort() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 1) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot hold a port for the test");
    }
    port = ntohs(addr.sin_port);
  }
  ~BusyPort() { ::close(fd); }
};

// Two workers and three teachers after a few steps, as a live job looks.
void fillRealisticJob(JobMetrics& m) {
  const char* teachers[] = {"bert-base", "roberta-base", "electra-base"};
  for (uint64_t step : {10, 20}) {
    for (int w = 0; w < 2; ++w) {
      control::StepReport r;
      r.set_step(step);
      (*r.mutable_losses())["total"] = 1.2 - 0.01 * step + 0.1 * w;
      (*r.mutable_losses())["task"] = 0.6;
      (*r.mutable_losses())["kd"] = 0.6 - 0.01 * step;
      for (int t = 0; t < 3; ++t) {
        auto* ts = r.add_teachers();
        ts->set_name(teachers[t]);
        ts->set_kl(0.3 + 0.1 * t);
        ts->set_weight(1.0 / 3);
      }
      r.set_samples(320);
      r.set_tokens(320 * 96);
      r.set_step_seconds(0.15 + 0.02 * w);
      for (const char* phase : {"data", "teachers", "forward", "backward", "allreduce", "optimizer"}) {
        (*r.mutable_phase_seconds())[phase] = 0.025;
      }
      r.set_learning_rate(3e-5);
      r.set_grad_norm(0.9);
      r.set_sparsity_target(0.65);
      r.set_sparsity_actual(0.62);
      (*r.mutable_layer_density())["encoder.layers.0.ffn.up.weight"] = 0.375;
      (*r.mutable_layer_density())["encoder.layers.0.attention.query.weight"] = 0.34;
      r.set_mask_changes(1200);
      r.set_score_bytes(3 << 20);
      r.set_criterion_trainable(24576);
      m.recordReport(w, r);
      m.recordProgress(w, step + 1, "forward", 1700000000 + step);
      m.setWatchdog(w, 0.5);
    }
  }
  m.setJobState(20, 600, 0, 72);
  m.recordCheckpoint(20, 1700000020);
  m.recordEval(20, 0.81, 0.52);
}

bool havePromtool() { return std::system("command -v promtool > /dev/null 2>&1") == 0; }

// promtool's exit status: 0 clean, 1 parse error, 3 lint findings.
int promtoolCheck(const std::string& file) {
  const std::string command = "promtool check metrics < '" + file + "' > '" + file + ".out' 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(JobMetricsServe, PromtoolFindsNothingToLint) {
  ASSERT_TRUE(havePromtool()) << "promtool is not installed: run launch/setup.sh (Debian package prometheus)";
  testing::ScratchDir dir;
  JobMetrics m("sst2-distill", 2, {"bert-base", "roberta-base", "electra-base"});
  fillRealisticJob(m);
  const std::string file = dir.path("metrics.txt");
  std::ofstream(file) << m.exposition();
  EXPECT_EQ(promtoolCheck(file), 0) << readFile(file + ".out") << "\n" << m.exposition();
}

TEST(JobMetricsServe, PromtoolAcceptsTheStateBeforeAnyReport) {
  ASSERT_TRUE(havePromtool()) << "promtool is not installed: run launch/setup.sh (Debian package prometheus)";
  testing::ScratchDir dir;
  JobMetrics m("sst2-distill", 2, {"bert-base", "roberta-base", "electra-base"});
  const std::string file = dir.path("metrics.txt");
  std::ofstream(file) << m.exposition();
  EXPECT_EQ(promtoolCheck(file), 0) << readFile(file + ".out");
}

TEST(JobMetricsServe, HttpGetOfMetricsReturnsTheExposition) {
  JobMetrics m("sst2-distill", 2, {"bert-base", "roberta-base", "electra-base"});
  EXPECT_EQ(m.port(), 0);
  m.serve("127.0.0.1", 0);
  ASSERT_NE(m.port(), 0);
  fillRealisticJob(m);

  const std::string expected = m.exposition();
  const std::string response = httpGet(m.port(), "/metrics");
  ASSERT_EQ(response.rfind("HTTP/1.", 0), 0u) << response;
  EXPECT_NE(response.find(" 200 "), std::string::npos) << response.substr(0, 200);
  const std::string body = response.substr(response.find("\r\n\r\n") + 4);
  std::istringstream lines(expected);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(body.find(line + "\n"), std::string::npos) << "served body lacks: " << line;
  }

  // What a Prometheus server would scrape passes promtool too.
  if (havePromtool()) {
    testing::ScratchDir dir;
    const std::string file = dir.path("scraped.txt");
    std::ofstream(file) << body;
    EXPECT_EQ(promtoolCheck(file), 0) << readFile(file + ".out");
  }
}

TEST(JobMetricsServe, PortInUseThrowsNamingTheAddress) {
  BusyPort busy;
  JobMetrics m("demo", 1, {});
  const std::string where = "127.0.0.1:" + std::to_string(busy.port);
  try {
    m.serve("127.0.0.1", busy.port);
    FAIL() << "serve() on a busy port " << where << " did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
  }
  EXPECT_EQ(m.port(), 0);
}

}  // namespace
}  // namespace distill::monitoring
