#include "device/cpu_elementwise.h"

#include "device/dtype_dispatch.h"
#include "reduce_math.h"

namespace dpb::cpu {

void fill(DType type, void* dst, std::size_t count, double value) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const T v = from_float<T>(static_cast<float>(value));
    T* d = static_cast<T*>(dst);
    for (std::size_t i = 0; i < count; ++i) d[i] = v;
  });
}

void reduce_add(DType type, void* dst, const void* src, std::size_t count) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst);
    const T* s = static_cast<const T*>(src);
    for (std::size_t i = 0; i < count; ++i) d[i] = add_elem(d[i], s[i]);
  });
}

void scale(DType type, void* data, std::size_t count, float factor) {
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(data);
    for (std::size_t i = 0; i < count; ++i) d[i] = scale_elem(d[i], factor);
  });
}

void cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count) {
  dispatch_dtype(dst_type, [&](auto dst_tag) {
    using To = decltype(dst_tag);
    dispatch_dtype(src_type, [&](auto src_tag) {
      using From = decltype(src_tag);
      To* d = static_cast<To*>(dst);
      const From* s = static_cast<const From*>(src);
      for (std::size_t i = 0; i < count; ++i) d[i] = cast_elem<To>(s[i]);
    });
  });
}

}  // namespace dpb::cpu
