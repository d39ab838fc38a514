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
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    DISTILL_FAIL(tmp, ": fsync failed: ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    DISTILL_FAIL(path, ": cannot rename ", tmp, " into place: ", std::strerror(err));
  }
  // The rename itself is durable only once the directory entry is synced.
  int dir = ::open(parentDirectory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace distill
