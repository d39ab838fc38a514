// SHA-256 (FIPS 180-4) digests, used for dataset shard checksums and the
// teacher-cache keys. Our own implementation so the coordinator needs no
// crypto library; this is for integrity checks, not for security.
//
//   std::string hex = distill::sha256Hex("abc", 3);   // "ba7816bf..."
//   std::string file_hex = distill::sha256File("data/shard-00000.safetensors");
//
//   distill::Sha256 h;                                 // incremental
//   h.update(part1, n1); h.update(part2, n2);
//   std::string hex2 = h.hexDigest();
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace distill {

// Incremental SHA-256: feed bytes with update(), then read the digest once.
class Sha256 {
 public:
  Sha256();
  // Appends n bytes to the message.
  void update(const void* data, size_t n);
  // Finishes the message and returns the 32-byte digest. Call once.
  std::array<uint8_t, 32> digest();
  // Finishes the message and returns the digest as 64 lowercase hex characters.
  std::string hexDigest();

 private:
  void compressBlock(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

// SHA-256 of n bytes, as 64 lowercase hex characters.
std::string sha256Hex(const void* data, size_t n);

// SHA-256 of a file's content, read in chunks (files may be larger than
// memory). Throws distill::Error naming the file when it cannot be read.
std::string sha256File(const std::string& path);

}  // namespace distill
