// NVTX ranges (domain "dpbench", core/measure/nvtx.h) around a training phase on a set of streams.
// NVTX ranges belong to a host thread. On the cpu backend the work runs on each stream's worker
// thread, so the range is opened and closed by tasks enqueued on that stream: Nsight Systems then
// shows "forward", "backward", "allreduce[b]" and "optimizer" on the threads that did the work. On
// other backends (cuda) the range covers the host thread's enqueueing of the phase, as PyTorch's
// NVTX ranges do.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "device/backend.h"
#include "measure/nvtx.h"

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
  using Holder = std::shared_ptr<std::optional<NvtxRange>>;
  struct OnStream {
    Stream* stream;
    Holder holder;
  };
  std::vector<OnStream> on_streams_;
  std::optional<NvtxRange> host_;
  bool ended_ = false;
};

}  // namespace dpb
