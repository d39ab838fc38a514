// The byte-level alphabet of GPT-2's BPE: every byte is a printable Unicode
// character (the printable Latin-1 bytes stand for themselves, the others are
// shifted past U+0100), so a byte string is a string the BPE vocabulary spells.
#pragma once

#include <string>

namespace distill::text {

// UTF-8 of the byte-level characters of `bytes`, e.g. " hi" -> "Ġhi".
std::string toByteLevel(const std::string& bytes);

}  // namespace distill::text
