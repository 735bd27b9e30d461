// Host loops over the shared element math (kernels/reduce_math.h): the cpu backend's kernels.
#pragma once
#include <cstddef>

#include "device/dtype.h"

namespace dpb::cpu {

void fill(DType type, void* dst, std::size_t count, double value);
void reduce_add(DType type, void* dst, const void* src, std::size_t count);
void scale(DType type, void* data, std::size_t count, float factor);
void cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count);

}  // namespace dpb::cpu
