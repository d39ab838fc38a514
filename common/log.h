// Minimal line logger: every line starts with the role and rank, so the output
// of many ranks interleaved by mpirun stays readable.
//
//   log::setPrefix("worker 2");
//   log::info("step ", step, " loss ", loss);
#pragma once

#include <string>

#include "common/error.h"

namespace distill::log {

void setPrefix(const std::string& prefix);
void write(const char* level, const std::string& line);
void setVerbose(bool verbose);
bool verbose();

template <typename... Args>
void info(const Args&... args) { write("info", detail::concat(args...)); }
template <typename... Args>
void warn(const Args&... args) { write("warn", detail::concat(args...)); }
template <typename... Args>
void error(const Args&... args) { write("error", detail::concat(args...)); }
template <typename... Args>
void debug(const Args&... args) { if (verbose()) write("debug", detail::concat(args...)); }

}  // namespace distill::log
