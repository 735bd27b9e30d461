// Host-side helpers of the kernel tests (emulated and on the GPU): typed element buffers at a
// chosen alignment, random inputs, and element-wise comparisons with the cpu backend's results.
#pragma once
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "device/dtype.h"

namespace dpb::kernel_test {

// The sizes the element kernels are checked at: one element, either side of a warp, a block less
// one, past four blocks (the tails of 16-byte vectors of every type), and enough to make the
// grid-stride loops go round more than once at the tests' small SM count.
inline constexpr std::size_t kEdgeSizes[] = {1, 31, 33, 1023, 4097, 20001};

// `count` elements of `type` starting `offset` elements past a 16-byte boundary (offset 1 makes
// every vectorized kernel take its scalar path).
class ElementBuffer {
 public:
  ElementBuffer(DType type, std::size_t count, std::size_t offset = 0);
  ElementBuffer(DType type, const std::vector<float>& values, std::size_t offset = 0);

  DType type() const { return type_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * dtype_size(type_); }
  void* data() { return storage_.data()->b + offset_ * dtype_size(type_); }
  const void* data() const { return storage_.data()->b + offset_ * dtype_size(type_); }

  float at(std::size_t i) const;
  void set(std::size_t i, float v);  // rounded to the type
  void set_bytes(const std::vector<std::uint8_t>& raw);
  std::vector<std::uint8_t> raw() const;

 private:
  struct alignas(16) Chunk {
    std::byte b[16];
  };
  DType type_;
  std::size_t count_;
  std::size_t offset_;
  std::vector<Chunk> storage_;
};

// Random element bit patterns including the special values: every 16-bit pattern (NaN, inf,
// subnormals) for fp16/bf16; random finite values mixed with specials for fp32.
std::vector<std::uint8_t> random_elements(DType type, std::size_t count, std::uint32_t seed);

// Uniform values in [-scale, scale).
std::vector<float> random_values(std::size_t count, std::uint32_t seed, float scale = 1.0f);

// Distance between a representable value of `type` near |x| and the next one up.
double ulp(DType type, double x);

// Bit-for-bit, except that two NaNs agree whatever their payloads.
void expect_same_elements(DType type, const std::vector<std::uint8_t>& expected, const std::vector<std::uint8_t>& got,
                          const std::string& what);
inline void expect_same_elements(const ElementBuffer& expected, const ElementBuffer& got, const std::string& what) {
  expect_same_elements(expected.type(), expected.raw(), got.raw(), what);
}

// |got - expected| <= ulps units of the type at |expected| + abs_tol, element by element (NaNs agree).
void expect_close_elements(const ElementBuffer& expected, const ElementBuffer& got, double ulps, double abs_tol,
                           const std::string& what);

std::string describe(DType type, std::size_t count, std::size_t offset);

}  // namespace dpb::kernel_test
