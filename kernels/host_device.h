// DPB_HD marks functions compiled for both host and device: the element math is written once and
// called by CUDA kernels and by the cpu backend alike (ARCHITECTURE.md, seam 3).
#pragma once
#if defined(__CUDACC__)
#define DPB_HD __host__ __device__ __forceinline__
#else
#define DPB_HD inline
#endif
