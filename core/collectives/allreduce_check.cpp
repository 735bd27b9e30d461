#include "collectives/allreduce_check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "float16.h"

namespace dpb {

namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Largest integer the dtype holds with every smaller one: 2^(mantissa bits + 1).
std::uint64_t exact_integer_limit(DType type) {
  switch (type) {
    case DType::f32: return std::uint64_t{1} << 24;
    case DType::f16: return 2048;
    case DType::bf16: return 256;
  }
  return 0;
}

int mantissa_bits(DType type) {
  switch (type) {
    case DType::f32: return 23;
    case DType::f16: return 10;
    case DType::bf16: return 7;
  }
  return 0;
}

double round_to(DType type, float v) {
  switch (type) {
    case DType::f32: return v;
    case DType::f16: return to_float(f16_from_float(v));
    case DType::bf16: return to_float(bf16_from_float(v));
  }
  return v;
}

double load(DType type, const std::byte* p) {
  switch (type) {
    case DType::f32: {
      float f;
      std::memcpy(&f, p, sizeof f);
      return f;
    }
    case DType::f16: {
      f16 h;
      std::memcpy(&h.bits, p, sizeof h.bits);
      return to_float(h);
    }
    case DType::bf16: {
      bf16 h;
      std::memcpy(&h.bits, p, sizeof h.bits);
      return to_float(h);
    }
  }
  return 0;
}

void store(DType type, std::byte* p, double v) {
  const auto f = static_cast<float>(v);
  switch (type) {
    case DType::f32: std::memcpy(p, &f, sizeof f); return;
    case DType::f16: {
      const f16 h = f16_from_float(f);
      std::memcpy(p, &h.bits, sizeof h.bits);
      return;
    }
    case DType::bf16: {
      const bf16 h = bf16_from_float(f);
      std::memcpy(p, &h.bits, sizeof h.bits);
      return;
    }
  }
}

}  // namespace

std::string_view input_pattern_name(InputPattern pattern) {
  return pattern == InputPattern::integers ? "integers" : "fractions";
}

void CheckResult::merge(const CheckResult& other) {
  wrong += other.wrong;
  checked += other.checked;
  tolerance = std::max(tolerance, other.tolerance);
  max_abs_error = std::max(max_abs_error, other.max_abs_error);
}

double allreduce_input_value(DType type, InputPattern pattern, int rank, int ranks, std::size_t index) {
  if (ranks < 1) throw std::invalid_argument("allreduce input: ranks must be at least 1");
  const std::uint64_t h = mix((static_cast<std::uint64_t>(rank) << 48) ^ static_cast<std::uint64_t>(index));
  if (pattern == InputPattern::integers) {
    // n * vmax <= the exact-integer limit, so every partial sum is exact in any order.
    const std::uint64_t vmax = std::min<std::uint64_t>(31, exact_integer_limit(type) / static_cast<std::uint64_t>(ranks));
    return static_cast<double>(h % (vmax + 1));
  }
  return round_to(type, static_cast<float>(h % 512) / 16.0f);  // [0, 32) in steps of 1/16
}

void fill_allreduce_input(DType type, InputPattern pattern, int rank, int ranks, std::span<std::byte> out,
                          std::size_t first) {
  const std::size_t size = dtype_size(type);
  const std::size_t n = out.size() / size;
  for (std::size_t i = 0; i < n; ++i) {
    store(type, out.data() + i * size, allreduce_input_value(type, pattern, rank, ranks, first + i));
  }
}

double dtype_ulp(DType type, double x) {
  x = std::fabs(x);
  if (x == 0 || !std::isfinite(x)) return 0;
  int exp = 0;
  std::frexp(x, &exp);  // x = m * 2^exp, m in [0.5, 1): the binade is [2^(exp-1), 2^exp)
  return std::ldexp(1.0, exp - 1 - mantissa_bits(type));
}

double allreduce_tolerance(DType type, InputPattern pattern, int ranks, double reference) {
  if (pattern == InputPattern::integers) return 0;
  return static_cast<double>(ranks - 1) * dtype_ulp(type, reference);
}

AllreduceReference::AllreduceReference(DType type, InputPattern pattern, int ranks, std::size_t first,
                                       std::size_t count)
    : type_(type), pattern_(pattern), ranks_(ranks), expected_(count, 0.0) {
  for (int r = 0; r < ranks; ++r) {
    for (std::size_t i = 0; i < count; ++i) expected_[i] += allreduce_input_value(type, pattern, r, ranks, first + i);
  }
}

CheckResult AllreduceReference::check(std::span<const std::byte> output) const {
  const std::size_t size = dtype_size(type_);
  if (output.size() / size != expected_.size()) {
    throw std::invalid_argument("allreduce check: output holds " + std::to_string(output.size() / size) +
                                " elements, the reference " + std::to_string(expected_.size()));
  }
  CheckResult result;
  result.checked = expected_.size();
  for (std::size_t i = 0; i < expected_.size(); ++i) {
    const double tol = allreduce_tolerance(type_, pattern_, ranks_, expected_[i]);
    const double err = std::fabs(load(type_, output.data() + i * size) - expected_[i]);
    result.tolerance = std::max(result.tolerance, tol);
    if (!(err <= tol)) ++result.wrong;  // NaN counts as wrong
    result.max_abs_error = std::isnan(err) ? std::numeric_limits<double>::infinity() : std::max(result.max_abs_error, err);
  }
  return result;
}

CheckResult check_allreduce_output(DType type, InputPattern pattern, int ranks, std::span<const std::byte> output,
                                   std::size_t first) {
  return AllreduceReference(type, pattern, ranks, first, output.size() / dtype_size(type)).check(output);
}

}  // namespace dpb
