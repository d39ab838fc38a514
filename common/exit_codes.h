// Exit codes of `distill train` (the job) and the other subcommands; the
// table users read is in docs/operations.md ("Exit codes").
#pragma once

namespace distill {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // a rank failed or stalled (named with its step and phase)
inline constexpr int kExitBadInput = 2;  // a config, data, model or checkpoint check failed
inline constexpr int kExitStopped = 3;   // stopped by SIGTERM/SIGINT after a checkpoint: resume with --resume

}  // namespace distill
