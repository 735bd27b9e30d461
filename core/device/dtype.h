// Element types the harness moves and reduces, and their names on the command line and in results.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace dpb {

enum class DType { f32, f16, bf16 };

inline constexpr DType kAllDTypes[] = {DType::f32, DType::f16, DType::bf16};

constexpr std::size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 2; }

// "fp32", "fp16", "bf16": the names users type and results files store.
std::string_view dtype_name(DType t);

// Parses a dtype name (also accepts "float32", "float16", "half", "bfloat16"); throws
// std::invalid_argument naming the bad value otherwise.
DType parse_dtype(std::string_view name);

}  // namespace dpb
