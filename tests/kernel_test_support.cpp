#include "kernel_test_support.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <stdexcept>

#include "float16.h"

namespace dpb::kernel_test {

ElementBuffer::ElementBuffer(DType type, std::size_t count, std::size_t offset)
    : type_(type), count_(count), offset_(offset), storage_(((count + offset) * dtype_size(type) + 15) / 16 + 1) {}

ElementBuffer::ElementBuffer(DType type, const std::vector<float>& values, std::size_t offset)
    : ElementBuffer(type, values.size(), offset) {
  for (std::size_t i = 0; i < values.size(); ++i) set(i, values[i]);
}

float ElementBuffer::at(std::size_t i) const {
  const auto* p = static_cast<const std::byte*>(data()) + i * dtype_size(type_);
  if (type_ == DType::f32) {
    float f;
    std::memcpy(&f, p, sizeof f);
    return f;
  }
  std::uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return type_ == DType::f16 ? to_float(f16{bits}) : to_float(bf16{bits});
}

void ElementBuffer::set(std::size_t i, float v) {
  auto* p = static_cast<std::byte*>(data()) + i * dtype_size(type_);
  if (type_ == DType::f32) {
    std::memcpy(p, &v, sizeof v);
    return;
  }
  const std::uint16_t bits = type_ == DType::f16 ? f16_from_float(v).bits : bf16_from_float(v).bits;
  std::memcpy(p, &bits, sizeof bits);
}

void ElementBuffer::set_bytes(const std::vector<std::uint8_t>& raw) {
  if (raw.size() != bytes()) throw std::invalid_argument("ElementBuffer::set_bytes: size mismatch");
  std::memcpy(data(), raw.data(), raw.size());
}

std::vector<std::uint8_t> ElementBuffer::raw() const {
  std::vector<std::uint8_t> out(bytes());
  std::memcpy(out.data(), data(), out.size());
  return out;
}

std::vector<std::uint8_t> random_elements(DType type, std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> bytes(count * dtype_size(type));
  if (type == DType::f32) {
    std::uniform_real_distribution<float> value(-1000.0f, 1000.0f);
    const float specials[] = {0.0f,
                              -0.0f,
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::denorm_min(),
                              65504.0f,
                              65520.0f,
                              3.0e38f,
                              1e-40f};
    for (std::size_t i = 0; i < count; ++i) {
      const float f = i % 17 == 5 ? specials[(i / 17) % std::size(specials)] : value(rng);
      std::memcpy(&bytes[i * 4], &f, 4);
    }
  } else {
    for (std::size_t i = 0; i < count; ++i) {
      const auto bits = static_cast<std::uint16_t>(rng());
      std::memcpy(&bytes[i * 2], &bits, 2);
    }
  }
  return bytes;
}

std::vector<float> random_values(std::size_t count, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-scale, scale);
  std::vector<float> v(count);
  for (float& x : v) x = value(rng);
  return v;
}

double ulp(DType type, double x) {
  const int mantissa_bits = type == DType::f32 ? 23 : type == DType::f16 ? 10 : 7;
  const int min_exp = type == DType::f32 ? -126 : type == DType::f16 ? -14 : -126;
  int e = 0;
  std::frexp(std::abs(x), &e);  // |x| in [2^(e-1), 2^e)
  const int exp = std::max(e - 1, min_exp);
  return std::ldexp(1.0, exp - mantissa_bits);
}

void expect_same_elements(DType type, const std::vector<std::uint8_t>& expected, const std::vector<std::uint8_t>& got,
                          const std::string& what) {
  ASSERT_EQ(expected.size(), got.size()) << what;
  const std::size_t size = dtype_size(type);
  ElementBuffer e(type, expected.size() / size), g(type, got.size() / size);
  e.set_bytes(expected);
  g.set_bytes(got);
  std::size_t wrong = 0, first = 0;
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (std::memcmp(&expected[i * size], &got[i * size], size) == 0 || (std::isnan(e.at(i)) && std::isnan(g.at(i)))) {
      continue;
    }
    if (wrong++ == 0) first = i;
  }
  EXPECT_EQ(wrong, 0u) << what << ": " << wrong << " of " << e.size() << " elements differ, first at " << first
                       << " (expected " << (wrong ? e.at(first) : 0.0f) << ", got " << (wrong ? g.at(first) : 0.0f)
                       << ")";
}

void expect_close_elements(const ElementBuffer& expected, const ElementBuffer& got, double ulps, double abs_tol,
                           const std::string& what) {
  ASSERT_EQ(expected.size(), got.size()) << what;
  ASSERT_EQ(expected.type(), got.type()) << what;
  std::size_t wrong = 0, first = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double e = expected.at(i), g = got.at(i);
    if (std::isnan(e) && std::isnan(g)) continue;
    if (e == g || std::abs(e - g) <= ulps * ulp(expected.type(), e) + abs_tol) continue;
    if (wrong++ == 0) first = i;
  }
  EXPECT_EQ(wrong, 0u) << what << ": " << wrong << " of " << expected.size() << " elements differ, first at " << first
                       << " (expected " << (wrong ? expected.at(first) : 0.0f) << ", got "
                       << (wrong ? got.at(first) : 0.0f) << ")";
}

std::string describe(DType type, std::size_t count, std::size_t offset) {
  return std::string(dtype_name(type)) + " x" + std::to_string(count) + (offset ? " unaligned" : " aligned");
}

}  // namespace dpb::kernel_test
