// NVTX ranges in the "dpbench" domain, so Nsight Systems timelines show forward, backward, bucket
// all-reduce and optimizer phases by name. In a build without CUDA (no NVTX) they do nothing.
//
//   { dpb::NvtxRange range("bucket_allreduce"); ... }   // pushed here, popped at scope exit
//
// Ranges are per host thread (NVTX push/pop semantics): open and close a range on the same thread.
// Which thread that is for a stream's work is the backend's business (Stream::open_range).
#pragma once
#include <string>

namespace dpb {

class NvtxRange {
 public:
  explicit NvtxRange(const char* name);
  explicit NvtxRange(const std::string& name) : NvtxRange(name.c_str()) {}
  ~NvtxRange();
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

// Marks an instant (e.g. "timeout" or "skip") in the "dpbench" domain; no-op without CUDA.
void nvtx_mark(const char* message);

}  // namespace dpb
