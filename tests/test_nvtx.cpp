// NVTX ranges: usable (nested, from strings, marks) in both the CUDA and the CPU-only build; with
// no profiler attached they must cost nothing observable and never throw.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "device/nvtx.h"

namespace dpb {
namespace {

TEST(Nvtx, NestedRangesAndMarksWithoutAProfiler) {
  EXPECT_NO_THROW({
    NvtxRange step("train_step");
    {
      NvtxRange forward(std::string("forward"));
      nvtx_mark("bucket 0 ready");
    }
    NvtxRange allreduce("bucket_allreduce");
  });
}

TEST(Nvtx, RangesOnSeveralThreads) {
  std::thread a([] {
    for (int i = 0; i < 100; ++i) NvtxRange r("rank 0 backward");
  });
  std::thread b([] {
    for (int i = 0; i < 100; ++i) NvtxRange r("rank 1 backward");
  });
  a.join();
  b.join();
  SUCCEED();
}

}  // namespace
}  // namespace dpb
