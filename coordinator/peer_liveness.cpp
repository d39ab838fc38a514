#include "coordinator/peer_liveness.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace distill::coordinator {

void PeerLiveness::seen(int member, uint32_t pid, const std::string& host) {
  if (member < 0 || pid == 0) return;
  if (peers_.size() <= static_cast<size_t>(member)) peers_.resize(static_cast<size_t>(member) + 1);
  static const std::string here = thisHost();
  peers_[static_cast<size_t>(member)] = {pid, host == here};
}

std::vector<int> PeerLiveness::dead() const {
  std::vector<int> out;
  for (size_t m = 0; m < peers_.size(); ++m) {
    if (peers_[m].local && exited(peers_[m].pid)) out.push_back(static_cast<int>(m));
  }
  return out;
}

std::string PeerLiveness::pidNote(int member) const {
  if (member < 0 || static_cast<size_t>(member) >= peers_.size() || peers_[static_cast<size_t>(member)].pid == 0) {
    return "";
  }
  return " (pid " + std::to_string(peers_[static_cast<size_t>(member)].pid) + ")";
}

bool PeerLiveness::exited(uint32_t pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  // A zombie still answers kill(): its state in /proc/<pid>/stat, after "(comm)", is Z.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && (text[paren + 2] == 'Z' || text[paren + 2] == 'X');
}

std::string PeerLiveness::thisHost() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

}  // namespace distill::coordinator
