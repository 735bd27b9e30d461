// The thread context the kernel bodies (kernels/*_body.h) are written against, so one source runs
// as a CUDA kernel and, in CPU tests, under the CUDA-semantics emulation (tests/cuda_emulation.h).
//
// A body is a function template over `Ctx`, called once per thread with that thread's context:
//   unsigned thread_idx(), block_idx(), block_dim(), grid_dim()   threadIdx.x ... gridDim.x
//   void sync_threads()                                           __syncthreads()
//   bool sync_threads_or(bool)                                    __syncthreads_or()
//   float shfl_down(float v, unsigned delta)                      __shfl_down_sync(full mask, ...)
//   std::uint64_t global_timer_ns(); void nanosleep(unsigned ns)  %globaltimer, __nanosleep
//   std::uint32_t load_volatile(const volatile std::uint32_t*)    a load another agent may change
//   void atomic_add_system(volatile std::uint32_t*, std::uint32_t) atomicAdd_system + fence
// Shared memory is a struct the __global__ wrapper declares __shared__ and passes by reference (the
// emulation gives each block its own), so no body declares storage the host compiler cannot place.
//
// Everything CUDA-only here is behind __CUDACC__: g++ compiles the bodies with the host context.
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define DPB_DEVICE __device__ __forceinline__
#define DPB_UNROLL _Pragma("unroll")
#else
#define DPB_DEVICE inline
#define DPB_UNROLL
#endif

namespace dpb::kernels {

#if defined(__CUDACC__)
// The real built-ins. One-dimensional launches only: every kernel here is.
struct CudaThread {
  __device__ unsigned thread_idx() const { return threadIdx.x; }
  __device__ unsigned block_idx() const { return blockIdx.x; }
  __device__ unsigned block_dim() const { return blockDim.x; }
  __device__ unsigned grid_dim() const { return gridDim.x; }
  __device__ void sync_threads() const { __syncthreads(); }
  __device__ bool sync_threads_or(bool pred) const { return __syncthreads_or(pred ? 1 : 0) != 0; }
  __device__ float shfl_down(float v, unsigned delta) const { return __shfl_down_sync(0xffffffffu, v, delta); }
  __device__ std::uint64_t global_timer_ns() const {
    std::uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
  }
  __device__ void nanosleep(unsigned ns) const { __nanosleep(ns); }
  __device__ std::uint32_t load_volatile(const volatile std::uint32_t* p) const { return *p; }
  // System scope: the counter lives in host-mapped memory that kernels on several devices (and the
  // host) touch at once.
  __device__ void atomic_add_system(volatile std::uint32_t* p, std::uint32_t v) const {
    atomicAdd_system(const_cast<unsigned int*>(p), v);
    __threadfence_system();
  }
};
#endif

// Grid-stride loop bounds: this thread's first index and the whole grid's thread count.
template <class Ctx>
DPB_DEVICE std::size_t grid_thread_index(const Ctx& ctx) {
  return static_cast<std::size_t>(ctx.block_idx()) * ctx.block_dim() + ctx.thread_idx();
}
template <class Ctx>
DPB_DEVICE std::size_t grid_thread_count(const Ctx& ctx) {
  return static_cast<std::size_t>(ctx.grid_dim()) * ctx.block_dim();
}

}  // namespace dpb::kernels
