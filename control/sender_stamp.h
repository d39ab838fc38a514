// Stamps a Progress message with its sender's pid and host, which the
// coordinator uses to tell a dead rank from the survivors that fail after it
// (coordinator/peer_liveness.h).
#pragma once

#include "proto/control.pb.h"

namespace distill::control {

void stampSender(Progress& progress);

}  // namespace distill::control
