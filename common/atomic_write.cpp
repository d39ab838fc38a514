#include "common/atomic_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace distill {
namespace {

std::string parentDirectory(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void writeFileAtomically(const std::string& path, const void* data, size_t n) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  DISTILL_CHECK(fd >= 0, tmp, ": cannot create: ", std::strerror(errno));
  const auto* bytes = static_cast<const char*>(data);
  size_t written = 0;
  while (written < n) {
    ssize_t got = ::write(fd, bytes + written, n - written);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      DISTILL_FAIL(tmp, ": write failed: ", std::strerror(err));
    }
    written += size_t(got);
  }
  // fsync before rename: otherwise a crash can leave the new name pointing at
  // an empty or partial file on filesystems that reorder metadata and data.
  const bool synced = ::fsync(fd) == 0;
  const int sync_err = errno;
  const bool closed = ::close(fd) == 0;  // always closed, even when fsync failed
  if (!synced || !closed) {
    const int err = synced ? errno : sync_err;
    ::unlink(tmp.c_str());
    DISTILL_FAIL(tmp, ": fsync failed: ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    DISTILL_FAIL(path, ": cannot rename ", tmp, " into place: ", std::strerror(err));
  }
  // The rename itself is durable only once the directory entry is synced.
  const std::string parent = parentDirectory(path);
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DISTILL_CHECK(dir >= 0, parent, ": cannot open to fsync: ", std::strerror(errno));
  const bool dir_synced = ::fsync(dir) == 0;
  const int dir_err = errno;
  ::close(dir);
  DISTILL_CHECK(dir_synced, parent, ": fsync failed: ", std::strerror(dir_err));
}

}  // namespace distill
