// PeerLiveness (coordinator/peer_liveness.h): a member whose process on this
// host has exited (a zombie not yet reaped, or gone) is dead; a running one,
// one on another host and one never seen are not.
#include "coordinator/peer_liveness.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace distill::coordinator {
namespace {

TEST(PeerLiveness, TellsADeadProcessFromALiveOne) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  PeerLiveness peers;
  const std::string here = PeerLiveness::thisHost();
  peers.seen(0, static_cast<uint32_t>(::getpid()), here);  // alive
  peers.seen(2, static_cast<uint32_t>(child), here);       // exits now
  peers.seen(3, static_cast<uint32_t>(child), "another-host");
  for (int i = 0; i < 200 && !PeerLiveness::exited(static_cast<uint32_t>(child)); ++i) ::usleep(10000);
  EXPECT_TRUE(PeerLiveness::exited(static_cast<uint32_t>(child)));  // a zombie: not reaped yet
  EXPECT_EQ(peers.dead(), std::vector<int>{2});
  EXPECT_EQ(peers.pidNote(2), " (pid " + std::to_string(child) + ")");
  EXPECT_EQ(peers.pidNote(1), "");  // never seen
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(PeerLiveness::exited(static_cast<uint32_t>(child)));  // reaped: gone
  EXPECT_FALSE(PeerLiveness::exited(static_cast<uint32_t>(::getpid())));
}

}  // namespace
}  // namespace distill::coordinator
