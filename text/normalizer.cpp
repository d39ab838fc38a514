#include "text/normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "common/error.h"

namespace distill::text {
namespace {

using Json = nlohmann::json;

Normalizer unicodeForm(const std::string& form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = form == "NFC"    ? icu::Normalizer2::getNFCInstance(status)
                              : form == "NFD"  ? icu::Normalizer2::getNFDInstance(status)
                              : form == "NFKC" ? icu::Normalizer2::getNFKCInstance(status)
                                               : icu::Normalizer2::getNFKDInstance(status);
  DISTILL_CHECK(U_SUCCESS(status), "tokenizer: ICU's ", form, " normalizer is unavailable: ", u_errorName(status));
  return [n, form](const std::string& s) {
    UErrorCode err = U_ZERO_ERROR;
    const icu::UnicodeString out = n->normalize(icu::UnicodeString::fromUTF8(s), err);
    DISTILL_CHECK(U_SUCCESS(err), "tokenizer: cannot ", form, "-normalize the text: ", u_errorName(err));
    std::string utf8;
    out.toUTF8String(utf8);
    return utf8;
  };
}

std::string replaceAll(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t pos = 0;
  for (size_t at; (at = s.find(from, pos)) != std::string::npos; pos = at + from.size()) {
    out.append(s, pos, at - pos);
    out += to;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

void read(const Json& spec, const std::string& where, std::vector<Normalizer>& steps) {
  if (spec.is_null()) return;
  DISTILL_CHECK(spec.is_object() && spec.contains("type") && spec.at("type").is_string(), where,
                ": expected an object with a \"type\"");
  const std::string type = spec.at("type").get<std::string>();
  if (type == "Sequence") {
    for (const auto& inner : spec.at("normalizers")) read(inner, where + ".normalizers", steps);
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    steps.push_back(unicodeForm(type));
  } else if (type == "Prepend") {
    const std::string prefix = spec.at("prepend").get<std::string>();
    steps.push_back([prefix](const std::string& s) { return s.empty() ? s : prefix + s; });
  } else if (type == "Replace") {
    const Json& pattern = spec.at("pattern");
    DISTILL_CHECK(pattern.contains("String"), where, ".pattern: only {\"String\": ...} is implemented for Replace");
    const std::string from = pattern.at("String").get<std::string>();
    const std::string to = spec.at("content").get<std::string>();
    DISTILL_CHECK(!from.empty(), where, ".pattern.String is empty");
    steps.push_back([from, to](const std::string& s) { return replaceAll(s, from, to); });
  } else {
    DISTILL_FAIL(where, ".type is \"", type, "\"; implemented: NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence (or none)");
  }
}

}  // namespace

std::vector<Normalizer> readNormalizers(const nlohmann::json& spec, const std::string& where) {
  std::vector<Normalizer> steps;
  read(spec, where, steps);
  return steps;
}

}  // namespace distill::text
