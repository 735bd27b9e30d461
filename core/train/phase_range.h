// A profiling range (NVTX, domain "dpbench") around a training phase on a set of streams. Each
// stream opens its own range where its work runs on a host thread of its own (cpu: the worker, so
// Nsight Systems shows "forward", "backward", "allreduce[b]" and "optimizer" on the threads that did
// the work); for the others (cuda) one range covers the host thread's enqueueing of the phase, as
// PyTorch's NVTX ranges do. Stream::open_range decides which.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "device/backend.h"
#include "device/nvtx.h"

namespace dpb {

class PhaseRange {
 public:
  PhaseRange(std::span<Stream* const> streams, std::string name);
  ~PhaseRange() { end(); }
  PhaseRange(const PhaseRange&) = delete;
  PhaseRange& operator=(const PhaseRange&) = delete;
  // Closes the range (idempotent).
  void end();

 private:
  std::vector<std::unique_ptr<StreamRange>> on_streams_;
  std::optional<NvtxRange> host_;
};

}  // namespace dpb
