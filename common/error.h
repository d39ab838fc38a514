// User-facing errors and checks.
//
// A `distill::Error` carries a message a user can act on: what was wrong and
// where (file, field, rank, step). Throw it through DISTILL_CHECK:
//
//   DISTILL_CHECK(n > 0, "data.train: ", path, " holds no samples");
//
// Internal invariants that only a bug can break use DISTILL_ASSERT, which adds
// the source location.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace distill {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

}  // namespace distill

#define DISTILL_CHECK(cond, ...)                                      \
  do {                                                                \
    if (!(cond)) throw ::distill::Error(::distill::detail::concat(__VA_ARGS__)); \
  } while (0)

#define DISTILL_FAIL(...) throw ::distill::Error(::distill::detail::concat(__VA_ARGS__))

#define DISTILL_ASSERT(cond, ...)                                               \
  do {                                                                          \
    if (!(cond))                                                                \
      throw std::logic_error(::distill::detail::concat(                         \
          "internal error at ", __FILE__, ":", __LINE__, ": ", #cond, ": ", ##__VA_ARGS__)); \
  } while (0)
