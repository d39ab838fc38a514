// Shared by the fuzz targets: the input as a file (the parsers read files, as
// the service does), in a scratch directory of this process.
//
//   const std::string path = fuzz::asFile(data, size, "dataset.json");
//   try { parse(path); } catch (const distill::Error&) {}   // a clean error: fine
//
// Anything but a distill::Error escaping a target (std::out_of_range, a JSON
// or YAML library exception, ...) reaches the user as an error that names no
// file or field: libFuzzer reports it as a crash, like a signal or a sanitizer.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fuzz {

// <TMPDIR or /tmp>/distill-fuzz-<pid>, created once.
inline const std::string& scratchDir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp && *tmp ? tmp : "/tmp") + "/distill-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes the input to <scratch>/<name> (replacing it) and returns the path.
inline std::string asFile(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = scratchDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace fuzz
