// gpu-labelled tests start with DPB_REQUIRE_GPU(): they skip with a message where no GPU is visible.
#pragma once
#include <gtest/gtest.h>

#include "device/backend.h"

#define DPB_REQUIRE_GPU()                                                                          \
  do {                                                                                             \
    if (::dpb::visible_cuda_devices() == 0) GTEST_SKIP() << "no CUDA device visible (gpu-labelled test)"; \
  } while (0)
