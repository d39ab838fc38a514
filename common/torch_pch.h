// Precompiled header for every target that includes LibTorch (see CMakeLists.txt).
// Only headers that are heavy and stable belong here.
#pragma once
#include <torch/torch.h>
#include <torch/script.h>
