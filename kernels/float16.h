// 16-bit floating-point storage types and their conversions, written once for host and device.
// Conversions from float round to nearest, ties to even, as the hardware converters and
// torch.Tensor.to(half/bfloat16) do; NaN stays NaN and overflow becomes infinity.
#pragma once
#include <cstdint>
#include <cstring>

#include "host_device.h"

namespace dpb {

struct f16 {
  std::uint16_t bits;
};
struct bf16 {
  std::uint16_t bits;
};

DPB_HD std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

DPB_HD float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

DPB_HD float to_float(float x) { return x; }

DPB_HD float to_float(bf16 x) { return bits_float(static_cast<std::uint32_t>(x.bits) << 16); }

DPB_HD bf16 bf16_from_float(float f) {
  const std::uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep it quiet and signed
    return bf16{static_cast<std::uint16_t>((u >> 16) | 0x0040u)};
  }
  const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return bf16{static_cast<std::uint16_t>((u + rounding) >> 16)};
}

DPB_HD float to_float(f16 x) {
  const std::uint32_t sign = static_cast<std::uint32_t>(x.bits & 0x8000u) << 16;
  const std::uint32_t exp = (x.bits >> 10) & 0x1fu;
  std::uint32_t mant = x.bits & 0x3ffu;
  if (exp == 0x1fu) {  // inf or NaN
    return bits_float(sign | 0x7f800000u | (mant << 13));
  }
  if (exp == 0) {
    if (mant == 0) return bits_float(sign);
    // Subnormal half: value = mant * 2^-24, exact in float.
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

DPB_HD f16 f16_from_float(float f) {
  const std::uint32_t u = float_bits(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  const std::uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return f16{static_cast<std::uint16_t>(sign | 0x7e00u)};  // NaN
  if (abs >= 0x477ff000u) return f16{static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds to inf
  if (abs < 0x38800000u) {
    // Result is subnormal (or zero) in half: scale so the half's least significant bit is
    // float's unit, then round to nearest even through the float adder.
    if (abs < 0x33000000u) return f16{sign};  // below half of the smallest subnormal
    const std::uint32_t exp = abs >> 23;
    const std::uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126u - exp;  // 14..24 for this range
    const std::uint32_t half_mant = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    std::uint32_t r = half_mant;
    if (rem > halfway || (rem == halfway && (half_mant & 1u))) ++r;
    return f16{static_cast<std::uint16_t>(sign | r)};
  }
  // Normal: rebias exponent, round mantissa from 23 to 10 bits, ties to even.
  const std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return f16{static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13))};
}

template <class T>
DPB_HD T from_float(float f);
template <>
DPB_HD float from_float<float>(float f) { return f; }
template <>
DPB_HD f16 from_float<f16>(float f) { return f16_from_float(f); }
template <>
DPB_HD bf16 from_float<bf16>(float f) { return bf16_from_float(f); }

}  // namespace dpb
