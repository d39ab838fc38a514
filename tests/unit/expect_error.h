// Expects `fn` to throw distill::Error whose message contains every one of
// `parts` (the file, field, tensor, layer... a user needs to fix the input).
//
//   expectError([&] { loadModel("missing.pt"); }, {"missing.pt", "cannot open"});
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace distill::testing {

template <typename Fn>
void expectError(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no distill::Error; expected one naming " << ::testing::PrintToString(parts);
  } catch (const Error& e) {
    for (const auto& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message '" << e.what() << "' lacks '" << part << "'";
    }
  }
}

}  // namespace distill::testing
