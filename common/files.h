// File-system helpers with the durability the checkpoints need: a file written
// with writeFileAtomic is either absent or complete, even across a crash.
#pragma once

#include <string>

namespace distill::files {

// Writes `content` to path.tmp, fsyncs it, renames it over `path`, fsyncs the
// directory (common/atomic_write.h, for strings).
void writeFileAtomic(const std::string& path, const std::string& content);
std::string readFile(const std::string& path);  // distill::Error naming the path when unreadable
void fsyncPath(const std::string& path);          // a file or a directory
bool exists(const std::string& path);
// What `path` is when it is not a regular file, for errors: "missing", "a
// directory", "a FIFO", "a socket", "a device"; "" for a regular file (a
// symlink is followed).
std::string notRegularFile(const std::string& path);
// The same for a stat mode (st_mode).
std::string notRegularFile(unsigned mode);
void makeDirs(const std::string& path);
// Replaces the symlink `link` by one pointing at `target`, atomically (symlink + rename).
void replaceSymlink(const std::string& target, const std::string& link);

}  // namespace distill::files
