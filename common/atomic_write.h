// Crash-safe file replacement: write to `path.tmp`, fsync, rename over `path`,
// fsync the directory. A reader sees either the old file or the new one,
// never a half-written one. Used by safetensors files and manifests.
//
//   distill::writeFileAtomically("out/dataset.json", text.data(), text.size());
#pragma once

#include <cstddef>
#include <string>

namespace distill {

// Replaces `path` with n bytes from data. Throws distill::Error naming the
// path (and the failing step) on any I/O error; the .tmp file is removed then.
void writeFileAtomically(const std::string& path, const void* data, size_t n);

}  // namespace distill
