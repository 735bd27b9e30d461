// The shared element math: fp16/bf16 conversions round to nearest even and agree with known values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "float16.h"
#include "reduce_math.h"

namespace dpb {
namespace {

TEST(Float16, ExactValuesRoundTrip) {
  for (float v : {0.0f, 1.0f, -2.0f, 0.5f, 65504.0f, 6.103515625e-05f, 5.9604644775390625e-08f}) {
    EXPECT_EQ(to_float(f16_from_float(v)), v) << v;
  }
  EXPECT_EQ(f16_from_float(1.0f).bits, 0x3c00);
  EXPECT_EQ(f16_from_float(-2.0f).bits, 0xc000);
  EXPECT_EQ(f16_from_float(65504.0f).bits, 0x7bff);
}

TEST(Float16, RoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to the even mantissa (1.0).
  EXPECT_EQ(f16_from_float(1.0f + 0x1p-11f).bits, 0x3c00);
  // 1 + 3*2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9 (even): rounds up.
  EXPECT_EQ(f16_from_float(1.0f + 3 * 0x1p-11f).bits, 0x3c02);
  EXPECT_EQ(f16_from_float(1.0f + 0x1p-11f + 0x1p-20f).bits, 0x3c01);
  // Overflow: 65520 rounds to infinity, 65519 to the largest finite half.
  EXPECT_EQ(f16_from_float(65520.0f).bits, 0x7c00);
  EXPECT_EQ(f16_from_float(65519.0f).bits, 0x7bff);
  // Subnormals: half of the smallest subnormal ties to zero; a bit more rounds up.
  EXPECT_EQ(f16_from_float(0x1p-25f).bits, 0x0000);
  EXPECT_EQ(f16_from_float(0x1p-25f * 1.5f).bits, 0x0001);
  EXPECT_EQ(f16_from_float(3 * 0x1p-25f).bits, 0x0002);  // 1.5 ulp ties to even (2)
}

TEST(Float16, SpecialValues) {
  EXPECT_TRUE(std::isinf(to_float(f16_from_float(std::numeric_limits<float>::infinity()))));
  EXPECT_TRUE(std::isnan(to_float(f16_from_float(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(to_float(bf16_from_float(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(f16_from_float(-0.0f).bits, 0x8000);
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(bf16_from_float(1.0f).bits, 0x3f80);
  EXPECT_EQ(bf16_from_float(1.0f + 0x1p-8f).bits, 0x3f80);              // tie, even stays
  EXPECT_EQ(bf16_from_float(1.0f + 3 * 0x1p-8f).bits, 0x3f82);          // tie, odd rounds up
  EXPECT_EQ(bf16_from_float(1.0f + 0x1p-8f + 0x1p-12f).bits, 0x3f81);   // above tie
  EXPECT_EQ(to_float(bf16_from_float(3.0e38f)), to_float(bf16{0x7f62}));
}

TEST(Float16, EveryHalfRoundTripsThroughFloat) {
  for (unsigned b = 0; b < 0x10000u; ++b) {
    const f16 h{static_cast<std::uint16_t>(b)};
    const float f = to_float(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(f16_from_float(f).bits, h.bits) << std::hex << b;
  }
}

TEST(ReduceMath, SixteenBitAddsInFloatAndRoundsOnce) {
  // 2048 + 1 is not representable in fp16 (spacing 2 there): ties to even gives 2048.
  EXPECT_EQ(to_float(add_elem(f16_from_float(2048.0f), f16_from_float(1.0f))), 2048.0f);
  EXPECT_EQ(to_float(add_elem(f16_from_float(2048.0f), f16_from_float(3.0f))), 2052.0f);
  EXPECT_EQ(to_float(scale_elem(bf16_from_float(3.0f), 0.5f)), 1.5f);
  EXPECT_EQ(to_float(cast_elem<f16>(bf16_from_float(1.5f))), 1.5f);
}

}  // namespace
}  // namespace dpb
