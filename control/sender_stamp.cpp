#include "control/sender_stamp.h"

#include <unistd.h>

#include <string>

namespace distill::control {

void stampSender(Progress& progress) {
  static const std::string host = [] {
    char name[256] = {};
    return ::gethostname(name, sizeof(name) - 1) == 0 ? std::string(name) : std::string();
  }();
  progress.set_pid(static_cast<uint32_t>(::getpid()));
  progress.set_host(host);
}

}  // namespace distill::control
