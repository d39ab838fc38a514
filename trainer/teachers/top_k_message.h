// A teacher's top-k (top_k.h) as a control message, for placement pool: a
// teacher rank encodes the top-k of a batch, the worker that trains on it
// decodes. Log-probabilities travel as float32 (not the cache's float16: a
// message is sent once, and with k = V the pool then gives exactly the live
// teachers' loss), ids int32, residual float32: 8 k + 4 bytes per position.
//
//   control::TeacherOutput m = encodeTopK(top, vocab);   // + step, teacher, samples
//   TopK again = decodeTopK(m, "teacher rank 3");         // CPU tensors
#pragma once

#include <string>

#include "proto/control.pb.h"
#include "trainer/teachers/top_k.h"

namespace distill::teachers {

// Fills positions, k, vocab and the three byte fields of a TeacherOutput.
control::TeacherOutput encodeTopK(const TopK& top, int64_t vocab);

// log_probs float32 and indices int32 [positions.., k], residual float32
// [positions..], on the CPU. Throws distill::Error naming `from` when the
// byte fields do not hold positions x k entries of their types.
TopK decodeTopK(const control::TeacherOutput& message, const std::string& from);

}  // namespace distill::teachers
