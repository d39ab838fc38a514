#include "common/log.h"

#include <cstdio>
#include <mutex>

namespace distill::log {
namespace {
// The prefix is set once at start-up, before any thread logs.
std::string& prefix() {
  static std::string value = "distill";
  return value;
}
bool& verboseFlag() {
  static bool value = false;
  return value;
}
std::mutex& lineMutex() {
  static std::mutex m;
  return m;
}
}  // namespace

void setPrefix(const std::string& p) { prefix() = p; }
void setVerbose(bool v) { verboseFlag() = v; }
bool verbose() { return verboseFlag(); }

void write(const char* level, const std::string& line) {
  std::lock_guard<std::mutex> lock(lineMutex());
  std::fprintf(stderr, "[%s] %s: %s\n", prefix().c_str(), level, line.c_str());
  std::fflush(stderr);
}

}  // namespace distill::log
