#include "common/sha256.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "../scratch_dir.h"
#include "common/error.h"

namespace distill {
namespace {

// Test vectors from FIPS 180-4 / NIST "SHA-256 examples".
TEST(Sha256, EmptyMessage) {
  EXPECT_EQ(sha256Hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Abc) {
  EXPECT_EQ(sha256Hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, TwoBlockMessage448Bits) {
  std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  ASSERT_EQ(m.size() * 8, 448u);
  EXPECT_EQ(sha256Hex(m.data(), m.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, OneMillionA) {
  std::string m(1000000, 'a');
  EXPECT_EQ(sha256Hex(m.data(), m.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalUpdatesMatchOneShot) {
  // Odd chunk sizes cross the 64-byte block boundary in every way.
  std::string m(1000, 'x');
  for (size_t i = 0; i < m.size(); ++i) m[i] = char('a' + i * 7 % 26);
  Sha256 h;
  for (size_t pos = 0, step = 1; pos < m.size(); pos += step, step = step % 70 + 1)
    h.update(m.data() + pos, std::min(step, m.size() - pos));
  EXPECT_EQ(h.hexDigest(), sha256Hex(m.data(), m.size()));
}

TEST(Sha256, FileMatchesBytes) {
  testing::ScratchDir dir;
  std::string m(3 << 20, 'a');  // larger than the 1 MiB read chunk
  m[12345] = 'b';
  std::ofstream(dir.path("f.bin"), std::ios::binary) << m;
  EXPECT_EQ(sha256File(dir.path("f.bin")), sha256Hex(m.data(), m.size()));
}

TEST(Sha256, MissingFileNamesThePath) {
  try {
    sha256File("/nonexistent/shard.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/shard.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace distill
