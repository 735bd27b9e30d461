// All-reduce conformance: every algorithm on every backend produces the exact sum (or one within
// the dtype's argued tolerance, allreduce_check.h) on every rank, for every element count (0, 1,
// fewer than ranks, not divisible by ranks, large), dtype, rank count 1..8, in place and out of
// place, and never writes the send buffer out of place; cases of two calls run the second with a
// host thread per rank.
//
// Parameterised over backend x algorithm x ranks x count x dtype x placement. The cpu instance
// always runs (this file, cpu test binary); the Cuda instance (gpu test binary,
// test_cuda_allreduce_conformance.cpp) skips with a message where no GPU is visible and
// adds the NCCL algorithms. Sizes are chosen so the whole suite stays within seconds (and within
// a minute under TSan): the full cross product runs on small counts with tiny chunks (many chunks,
// slots reused), the ~1M and ~4M counts on a few representative combinations.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "allreduce_conformance.h"
#include "collectives/allreduce_check.h"
#include "device/backend.h"
#include "device/cpu_elementwise.h"

namespace dpb {
namespace {

TEST(AllreduceCheck, ExactForIntegersAndCatchesWrongElements) {
  for (DType type : kAllDTypes) {
    const int n = 8;
    const std::size_t count = 4096;
    const AllreduceReference ref(type, InputPattern::integers, n, 100, count);
    // Sum the inputs the way a backend does: fp32 adds, rounded to the dtype after each.
    std::vector<std::vector<std::byte>> in(n, std::vector<std::byte>(count * dtype_size(type)));
    for (int r = 0; r < n; ++r) fill_allreduce_input(type, InputPattern::integers, r, n, in[static_cast<std::size_t>(r)], 100);
    std::vector<std::byte> out = in[0];
    for (int r = 1; r < n; ++r) cpu::reduce_add(type, out.data(), in[static_cast<std::size_t>(r)].data(), count);
    CheckResult ok = ref.check(out);
    EXPECT_EQ(ok.wrong, 0u) << dtype_name(type);
    EXPECT_EQ(ok.tolerance, 0.0);
    EXPECT_EQ(ok.max_abs_error, 0.0);
    // Drop one rank's contribution from a stretch of elements: caught wherever it was non-zero.
    std::vector<std::byte> bad = in[0];
    for (int r = 1; r < n - 1; ++r) cpu::reduce_add(type, bad.data(), in[static_cast<std::size_t>(r)].data(), count);
    const CheckResult missing = ref.check(bad);
    EXPECT_GT(missing.wrong, count * 9 / 10) << dtype_name(type);
    // A NaN is wrong, and its error is infinite.
    cpu::fill(type, out.data(), 1, std::numeric_limits<double>::quiet_NaN());
    const CheckResult nan = ref.check(out);
    EXPECT_EQ(nan.wrong, 1u);
    EXPECT_TRUE(std::isinf(nan.max_abs_error));
  }
}

TEST(AllreduceCheck, FractionToleranceCoversRoundingButNotMore) {
  for (DType type : {DType::f16, DType::bf16}) {
    const int n = 8;
    const std::size_t count = 20000;
    const AllreduceReference ref(type, InputPattern::fractions, n, 0, count);
    std::vector<std::vector<std::byte>> in(n, std::vector<std::byte>(count * dtype_size(type)));
    for (int r = 0; r < n; ++r) fill_allreduce_input(type, InputPattern::fractions, r, n, in[static_cast<std::size_t>(r)]);
    // Two summation orders: both must pass, and both must actually round somewhere.
    for (bool reverse : {false, true}) {
      std::vector<std::byte> out = in[reverse ? n - 1 : 0];
      for (int k = 1; k < n; ++k) {
        cpu::reduce_add(type, out.data(), in[static_cast<std::size_t>(reverse ? n - 1 - k : k)].data(), count);
      }
      const CheckResult res = ref.check(out);
      EXPECT_EQ(res.wrong, 0u) << dtype_name(type) << " max error " << res.max_abs_error;
      EXPECT_GT(res.max_abs_error, 0.0) << "the fractions pattern should make " << dtype_name(type) << " round";
      EXPECT_GT(res.tolerance, 0.0);
      // One element n ulp off (more than the n-1 roundings allow) is wrong.
      std::size_t i = 0;
      while (ref.expected(i) < 1.0) ++i;
      const double off = ref.expected(i) + n * dtype_ulp(type, ref.expected(i));
      cpu::fill(type, out.data() + i * dtype_size(type), 1, off);
      EXPECT_EQ(ref.check(out).wrong, 1u) << dtype_name(type);
    }
    EXPECT_EQ(dtype_ulp(type, 0.0), 0.0);
    EXPECT_EQ(allreduce_tolerance(type, InputPattern::fractions, n, 200.0), 7 * dtype_ulp(type, 200.0));
  }
  EXPECT_EQ(dtype_ulp(DType::bf16, 200.0), 1.0);     // bf16 has 8 significant bits: [128, 256) steps by 1
  EXPECT_EQ(dtype_ulp(DType::f16, 200.0), 0.125);    // fp16 has 11
  EXPECT_EQ(dtype_ulp(DType::f32, 1.0), 0x1p-23);
}

}  // namespace

namespace test {
namespace {

INSTANTIATE_TEST_SUITE_P(Cpu, AllreduceConformance, ::testing::ValuesIn(make_cases(BackendKind::cpu)),
                         [](const auto& tp) { return case_name(tp.param); });

}  // namespace
}  // namespace test
}  // namespace dpb
