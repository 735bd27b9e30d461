// Element kernels of the cuda backend. Grid-stride loops over the shared element math
// (reduce_math.h); 16-byte vector loads/stores when every pointer is aligned for them, with a scalar
// loop for the tail and for unaligned pointers (the result is identical either way: the same
// function is applied to every element).
#include <cuda_runtime.h>

#include <cstdint>

#include "device/dtype_dispatch.h"
#include "device/cuda_check.h"
#include "elementwise_launch.h"
#include "reduce_math.h"

namespace dpb::cuda_kernels {
namespace {

constexpr int kBlock = 256;
constexpr int kBlocksPerSm = 8;

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

__device__ __forceinline__ std::size_t thread_index() {
  return static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::size_t thread_stride() {
  return static_cast<std::size_t>(gridDim.x) * blockDim.x;
}

// Elements per 16-byte vector.
template <class T>
inline constexpr int kVecWidth = static_cast<int>(16 / sizeof(T));

template <class T>
__global__ void fill_kernel(T* dst, std::size_t count, T value, bool vectorized) {
  constexpr int V = kVecWidth<T>;
  std::size_t head = 0;
  if (vectorized) {
    Vec<T, V> pack;
#pragma unroll
    for (int k = 0; k < V; ++k) pack.v[k] = value;
    auto* d = reinterpret_cast<Vec<T, V>*>(dst);
    const std::size_t vecs = count / V;
    for (std::size_t i = thread_index(); i < vecs; i += thread_stride()) d[i] = pack;
    head = vecs * V;
  }
  for (std::size_t i = head + thread_index(); i < count; i += thread_stride()) dst[i] = value;
}

template <class T>
__global__ void reduce_add_kernel(T* dst, const T* src, std::size_t count, bool vectorized) {
  constexpr int V = kVecWidth<T>;
  std::size_t head = 0;
  if (vectorized) {
    auto* d = reinterpret_cast<Vec<T, V>*>(dst);
    const auto* s = reinterpret_cast<const Vec<T, V>*>(src);
    const std::size_t vecs = count / V;
    for (std::size_t i = thread_index(); i < vecs; i += thread_stride()) {
      Vec<T, V> a = d[i];
      const Vec<T, V> b = s[i];
#pragma unroll
      for (int k = 0; k < V; ++k) a.v[k] = add_elem(a.v[k], b.v[k]);
      d[i] = a;
    }
    head = vecs * V;
  }
  for (std::size_t i = head + thread_index(); i < count; i += thread_stride()) dst[i] = add_elem(dst[i], src[i]);
}

template <class T>
__global__ void scale_kernel(T* data, std::size_t count, float factor, bool vectorized) {
  constexpr int V = kVecWidth<T>;
  std::size_t head = 0;
  if (vectorized) {
    auto* d = reinterpret_cast<Vec<T, V>*>(data);
    const std::size_t vecs = count / V;
    for (std::size_t i = thread_index(); i < vecs; i += thread_stride()) {
      Vec<T, V> a = d[i];
#pragma unroll
      for (int k = 0; k < V; ++k) a.v[k] = scale_elem(a.v[k], factor);
      d[i] = a;
    }
    head = vecs * V;
  }
  for (std::size_t i = head + thread_index(); i < count; i += thread_stride()) data[i] = scale_elem(data[i], factor);
}

// Four elements per vector: 16 bytes of fp32 or 8 bytes of a 16-bit type on either side.
template <class To, class From>
__global__ void cast_kernel(To* dst, const From* src, std::size_t count, bool vectorized) {
  constexpr int V = 4;
  std::size_t head = 0;
  if (vectorized) {
    auto* d = reinterpret_cast<Vec<To, V>*>(dst);
    const auto* s = reinterpret_cast<const Vec<From, V>*>(src);
    const std::size_t vecs = count / V;
    for (std::size_t i = thread_index(); i < vecs; i += thread_stride()) {
      const Vec<From, V> in = s[i];
      Vec<To, V> out;
#pragma unroll
      for (int k = 0; k < V; ++k) out.v[k] = cast_elem<To>(in.v[k]);
      d[i] = out;
    }
    head = vecs * V;
  }
  for (std::size_t i = head + thread_index(); i < count; i += thread_stride()) dst[i] = cast_elem<To>(src[i]);
}

bool aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

int resolve_sm_count(int sm_count) {
  if (sm_count > 0) return sm_count;
  int device = 0;
  DPB_CUDA_CHECK(cudaGetDevice(&device));
  DPB_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device));
  return sm_count > 0 ? sm_count : 1;
}

// Enough blocks to cover the work once (in `per_thread`-element steps), capped at a few resident
// blocks per SM: the grid-stride loop covers the rest.
unsigned grid_for(std::size_t count, int per_thread, int sm_count) {
  const std::size_t per_block = static_cast<std::size_t>(kBlock) * static_cast<std::size_t>(per_thread);
  const std::size_t needed = (count + per_block - 1) / per_block;
  const std::size_t cap = static_cast<std::size_t>(resolve_sm_count(sm_count)) * kBlocksPerSm;
  const std::size_t blocks = needed < cap ? needed : cap;
  return static_cast<unsigned>(blocks > 0 ? blocks : 1);
}


}  // namespace

void launch_fill(DType type, void* dst, std::size_t count, double value, CUstream_st* stream, int sm_count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    // The value is converted on the host by the same function the cpu backend uses.
    const T v = from_float<T>(static_cast<float>(value));
    const bool vec = aligned(dst, 16);
    fill_kernel<T><<<grid_for(count, vec ? kVecWidth<T> : 1, sm_count), kBlock, 0, stream>>>(
        static_cast<T*>(dst), count, v, vec);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_reduce_add(DType type, void* dst, const void* src, std::size_t count, CUstream_st* stream,
                       int sm_count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const bool vec = aligned(dst, 16) && aligned(src, 16);
    reduce_add_kernel<T><<<grid_for(count, vec ? kVecWidth<T> : 1, sm_count), kBlock, 0, stream>>>(
        static_cast<T*>(dst), static_cast<const T*>(src), count, vec);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_scale(DType type, void* data, std::size_t count, float factor, CUstream_st* stream, int sm_count) {
  if (count == 0) return;
  dispatch_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    const bool vec = aligned(data, 16);
    scale_kernel<T><<<grid_for(count, vec ? kVecWidth<T> : 1, sm_count), kBlock, 0, stream>>>(
        static_cast<T*>(data), count, factor, vec);
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

void launch_cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count,
                 CUstream_st* stream, int sm_count) {
  if (count == 0) return;
  dispatch_dtype(dst_type, [&](auto dst_tag) {
    using To = decltype(dst_tag);
    dispatch_dtype(src_type, [&](auto src_tag) {
      using From = decltype(src_tag);
      const bool vec = aligned(dst, sizeof(To) * 4) && aligned(src, sizeof(From) * 4);
      cast_kernel<To, From><<<grid_for(count, vec ? 4 : 1, sm_count), kBlock, 0, stream>>>(
          static_cast<To*>(dst), static_cast<const From*>(src), count, vec);
    });
  });
  DPB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dpb::cuda_kernels
