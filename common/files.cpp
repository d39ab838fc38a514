#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_write.h"
#include "common/error.h"

namespace distill::files {
namespace fs = std::filesystem;

void fsyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  DISTILL_CHECK(fd >= 0, path, ": cannot open to fsync: ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  DISTILL_CHECK(rc == 0, path, ": fsync failed: ", std::strerror(err));
}

void writeFileAtomic(const std::string& path, const std::string& content) {
  writeFileAtomically(path, content.data(), content.size());
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DISTILL_CHECK(in, path, ": cannot read: ", std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::string notRegularFile(unsigned mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "a device";
}

std::string notRegularFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return notRegularFile(st.st_mode);
}

void makeDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  DISTILL_CHECK(!ec, path, ": cannot create directory: ", ec.message());
}

void replaceSymlink(const std::string& target, const std::string& link) {
  const std::string tmp = link + ".tmp";
  ::unlink(tmp.c_str());
  DISTILL_CHECK(::symlink(target.c_str(), tmp.c_str()) == 0, "symlink ", tmp, ": ", std::strerror(errno));
  DISTILL_CHECK(::rename(tmp.c_str(), link.c_str()) == 0, "rename ", tmp, " -> ", link, ": ",
                std::strerror(errno));
  const fs::path parent = fs::path(link).parent_path();
  fsyncPath(parent.empty() ? "." : parent.string());
}

}  // namespace distill::files
