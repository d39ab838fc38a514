#include "text/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/error.h"

namespace distill::text {
namespace {

std::string pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

RegexSplitter::RegexSplitter(const std::string& pattern, const std::string& where)
    : compiled_(std::make_unique<Compiled>()), where_(where) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                  &error, &offset, nullptr);
  DISTILL_CHECK(compiled_->code, where, ": the regular expression does not compile at offset ", offset, ": ",
                pcre2Message(error));
  pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE);  // an optimisation: without JIT, matching still works
}

RegexSplitter::~RegexSplitter() = default;

std::vector<std::string> RegexSplitter::split(const std::string& text) const {
  std::vector<std::string> pieces;
  const std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), &pcre2_match_data_free);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0, last_end = 0;
  // The first call checks the whole subject's UTF-8; later ones start on a
  // character boundary of the same subject and skip the check (else every
  // call would re-check the rest of the text: quadratic in its length).
  uint32_t options = 0;
  while (start <= text.size()) {
    const int rc = pcre2_match(compiled_->code, subject, text.size(), start, options, match.get(), nullptr);
    options = PCRE2_NO_UTF_CHECK;
    if (rc == PCRE2_ERROR_NOMATCH) break;
    DISTILL_CHECK(rc >= 0, where_, ": cannot match the text (", pcre2Message(rc), ")");
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    const size_t begin = ovector[0], end = ovector[1];
    if (begin > last_end) pieces.push_back(text.substr(last_end, begin - last_end));
    if (end > begin) {
      pieces.push_back(text.substr(begin, end - begin));
      last_end = end;
      start = end;
    } else {  // an empty match: step over one UTF-8 character
      start = begin + 1;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
    }
  }
  if (last_end < text.size()) pieces.push_back(text.substr(last_end));
  return pieces;
}

}  // namespace distill::text
