#include "trainer/precision/autocast_region.h"

#include <ATen/autocast_mode.h>

#include "trainer/precision/autocast_compat.h"

namespace distill::precision {

AutocastRegion::AutocastRegion(c10::DeviceType device, c10::ScalarType dtype) : device_(device) {
  was_enabled_ = autocastEnabled(device_);
  previous_dtype_ = autocastDtype(device_);
  setAutocastDtype(device_, dtype);
  setAutocastEnabled(device_, true);
  at::autocast::increment_nesting();
}

AutocastRegion::~AutocastRegion() {
  // The weight cache holds this step's casts; the next step's weights differ.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setAutocastEnabled(device_, was_enabled_);
  setAutocastDtype(device_, previous_dtype_);
}

}  // namespace distill::precision
