#include "text/byte_level.h"

#include <array>

namespace distill::text {
namespace {

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Byte b -> its character, as UTF-8. Bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF
// map to themselves; the other 68 take U+0100, U+0101, ... in byte order.
const std::array<std::string, 256>& table() {
  static const std::array<std::string, 256> t = [] {
    std::array<std::string, 256> out;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool itself = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      appendUtf8(out[b], itself ? b : next++);
    }
    return out;
  }();
  return t;
}

}  // namespace

std::string toByteLevel(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += table()[b];
  return out;
}

}  // namespace distill::text
