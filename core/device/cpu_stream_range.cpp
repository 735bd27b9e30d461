// Profiling ranges on a cpu stream: NVTX ranges belong to a host thread, and a cpu stream's work
// runs on its worker, so tasks on the stream open and close the range there. Nsight Systems then
// shows "forward", "backward", "allreduce[b]" and "optimizer" on the threads that did the work.
#include <optional>

#include "device/cpu_backend.h"
#include "device/nvtx.h"

namespace dpb {
namespace {

class CpuStreamRange final : public StreamRange {
 public:
  using Holder = std::shared_ptr<std::optional<NvtxRange>>;
  CpuStreamRange(CpuStream& stream, const std::string& name)
      : stream_(&stream), holder_(std::make_shared<std::optional<NvtxRange>>()) {
    stream_->enqueue([holder = holder_, name] { holder->emplace(name); });
  }
  ~CpuStreamRange() override {
    // Only tasks own the holder from here on, so even a skipped task (poisoned stream) releases
    // the range on the worker thread that opened it.
    try {
      stream_->enqueue([holder = std::move(holder_)] { holder->reset(); });
    } catch (...) {
      // The backend was aborted with the queue full: the run is failing already; an unclosed
      // profiling range must not end the process.
    }
  }
  CpuStreamRange(const CpuStreamRange&) = delete;
  CpuStreamRange& operator=(const CpuStreamRange&) = delete;

 private:
  CpuStream* stream_;
  Holder holder_;
};

}  // namespace

std::unique_ptr<StreamRange> CpuStream::open_range(const std::string& name) {
  return std::make_unique<CpuStreamRange>(*this, name);
}

}  // namespace dpb
