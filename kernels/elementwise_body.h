// Bodies of the collectives' element kernels (fill / reduce_add / scale / cast), written against a
// thread context (thread_context.h) so kernels/elementwise.cu runs them on the GPU and the CPU tests
// run the same source under the emulation. Grid-stride loops over the shared element math
// (reduce_math.h); 16-byte vector loads/stores when every pointer is aligned for them, with a scalar
// loop for the tail and for unaligned pointers (the result is identical either way: the same
// function is applied to every element).
//
// The launch shape (block size, grid) is here too, as plain host functions, so the CUDA launchers
// and the tests that mimic them cannot disagree on it.
#pragma once
#include <cstddef>
#include <cstdint>

#include "reduce_math.h"
#include "thread_context.h"

namespace dpb::kernels {

inline constexpr unsigned kElementBlock = 256;
inline constexpr std::size_t kElementBlocksPerSm = 8;

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// Elements per 16-byte vector.
template <class T>
inline constexpr int kVecWidth = static_cast<int>(16 / sizeof(T));
// cast moves four elements per vector: 16 bytes of fp32 or 8 bytes of a 16-bit type on either side.
inline constexpr int kCastVecWidth = 4;

inline bool is_aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

// Enough blocks to cover the work once (in `per_thread`-element steps), capped at a few resident
// blocks per SM: the grid-stride loop covers the rest. `sm_count` > 0.
inline unsigned elementwise_grid(std::size_t count, int per_thread, int sm_count) {
  const std::size_t per_block = std::size_t{kElementBlock} * static_cast<std::size_t>(per_thread);
  const std::size_t needed = (count + per_block - 1) / per_block;
  const std::size_t cap = static_cast<std::size_t>(sm_count) * kElementBlocksPerSm;
  const std::size_t blocks = needed < cap ? needed : cap;
  return static_cast<unsigned>(blocks > 0 ? blocks : 1);
}

template <class T, class Ctx>
DPB_DEVICE void fill_body(const Ctx& ctx, T* dst, std::size_t count, T value, bool vectorized) {
  constexpr int V = kVecWidth<T>;
  const std::size_t first = grid_thread_index(ctx), stride = grid_thread_count(ctx);
  std::size_t head = 0;
  if (vectorized) {
    Vec<T, V> pack;
    DPB_UNROLL
    for (int k = 0; k < V; ++k) pack.v[k] = value;
    auto* d = reinterpret_cast<Vec<T, V>*>(dst);
    const std::size_t vecs = count / V;
    for (std::size_t i = first; i < vecs; i += stride) d[i] = pack;
    head = vecs * V;
  }
  for (std::size_t i = head + first; i < count; i += stride) dst[i] = value;
}

template <class T, class Ctx>
DPB_DEVICE void reduce_add_body(const Ctx& ctx, T* dst, const T* src, std::size_t count, bool vectorized) {
  constexpr int V = kVecWidth<T>;
  const std::size_t first = grid_thread_index(ctx), stride = grid_thread_count(ctx);
  std::size_t head = 0;
  if (vectorized) {
    auto* d = reinterpret_cast<Vec<T, V>*>(dst);
    const auto* s = reinterpret_cast<const Vec<T, V>*>(src);
    const std::size_t vecs = count / V;
    for (std::size_t i = first; i < vecs; i += stride) {
      Vec<T, V> a = d[i];
      const Vec<T, V> b = s[i];
      DPB_UNROLL
      for (int k = 0; k < V; ++k) a.v[k] = add_elem(a.v[k], b.v[k]);
      d[i] = a;
    }
    head = vecs * V;
  }
  for (std::size_t i = head + first; i < count; i += stride) dst[i] = add_elem(dst[i], src[i]);
}

template <class T, class Ctx>
DPB_DEVICE void scale_body(const Ctx& ctx, T* data, std::size_t count, float factor, bool vectorized) {
  constexpr int V = kVecWidth<T>;
  const std::size_t first = grid_thread_index(ctx), stride = grid_thread_count(ctx);
  std::size_t head = 0;
  if (vectorized) {
    auto* d = reinterpret_cast<Vec<T, V>*>(data);
    const std::size_t vecs = count / V;
    for (std::size_t i = first; i < vecs; i += stride) {
      Vec<T, V> a = d[i];
      DPB_UNROLL
      for (int k = 0; k < V; ++k) a.v[k] = scale_elem(a.v[k], factor);
      d[i] = a;
    }
    head = vecs * V;
  }
  for (std::size_t i = head + first; i < count; i += stride) data[i] = scale_elem(data[i], factor);
}

template <class To, class From, class Ctx>
DPB_DEVICE void cast_body(const Ctx& ctx, To* dst, const From* src, std::size_t count, bool vectorized) {
  constexpr int V = kCastVecWidth;
  const std::size_t first = grid_thread_index(ctx), stride = grid_thread_count(ctx);
  std::size_t head = 0;
  if (vectorized) {
    auto* d = reinterpret_cast<Vec<To, V>*>(dst);
    const auto* s = reinterpret_cast<const Vec<From, V>*>(src);
    const std::size_t vecs = count / V;
    for (std::size_t i = first; i < vecs; i += stride) {
      const Vec<From, V> in = s[i];
      Vec<To, V> out;
      DPB_UNROLL
      for (int k = 0; k < V; ++k) out.v[k] = cast_elem<To>(in.v[k]);
      d[i] = out;
    }
    head = vecs * V;
  }
  for (std::size_t i = head + first; i < count; i += stride) dst[i] = cast_elem<To>(src[i]);
}

}  // namespace dpb::kernels
