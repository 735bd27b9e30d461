// NVTX ranges in the "dpbench" domain, so Nsight Systems timelines show forward, backward, bucket
// all-reduce and optimizer phases by name. In a CPU-only build the range compiles to nothing.
//
//   { dpb::NvtxRange range("bucket_allreduce"); ... }   // pushed here, popped at scope exit
//
// Ranges are per host thread (NVTX push/pop semantics): open and close a range on the same thread.
#pragma once
#include <string>

namespace dpb {

class NvtxRange {
 public:
#if DPBENCH_HAVE_CUDA
  explicit NvtxRange(const char* name);
  explicit NvtxRange(const std::string& name) : NvtxRange(name.c_str()) {}
  ~NvtxRange();
#else
  explicit NvtxRange(const char*) {}
  explicit NvtxRange(const std::string&) {}
  ~NvtxRange() = default;
#endif
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

// Marks an instant (e.g. "timeout" or "skip") in the "dpbench" domain; no-op without CUDA.
void nvtx_mark(const char* message);

}  // namespace dpb
