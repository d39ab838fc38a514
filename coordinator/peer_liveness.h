// Which ranks of the job are still running, as far as the coordinator can
// see: every Progress message carries its sender's pid and host; a member on
// the coordinator's own host whose process is gone (or a zombie not yet
// reaped by mpirun) has died: killed, or out of memory. Members on other
// hosts cannot be checked from here and are never reported dead.
//
//   PeerLiveness peers;
//   peers.seen(member, progress.pid(), progress.host());
//   for (int m : peers.dead()) ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace distill::coordinator {

class PeerLiveness {
 public:
  void seen(int member, uint32_t pid, const std::string& host);
  // Members known to have died, in member order.
  std::vector<int> dead() const;
  // " (pid 1234)" or "" when unknown.
  std::string pidNote(int member) const;

  // Whether process `pid` of this host has exited (absent, or a zombie).
  static bool exited(uint32_t pid);
  static std::string thisHost();

 private:
  struct Peer {
    uint32_t pid = 0;
    bool local = false;
  };
  std::vector<Peer> peers_;
};

}  // namespace distill::coordinator
