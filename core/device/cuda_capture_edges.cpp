#include "device/cuda_capture_edges.h"

#include <stdexcept>
#include <vector>

#include "device/cuda_check.h"
#include "device/cuda_signals.h"

namespace dpb {

namespace {
// Scoped to one capture by CaptureSignalEdges' lifetime, not run state: the Stream interface has
// no capture parameter, and capture mode is thread-local too (cudaStreamCaptureModeThreadLocal).
thread_local CaptureSignalEdges* t_installed = nullptr;

struct CaptureState {
  bool active = false;
  unsigned long long id = 0;
  const cudaGraphNode_t* deps = nullptr;
  std::size_t deps_count = 0;
};

CaptureState capture_state(cudaStream_t stream) {
  CaptureState s;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  DPB_CUDA_CHECK(cudaStreamGetCaptureInfo(stream, &status, &s.id, nullptr, &s.deps, nullptr, &s.deps_count));
  s.active = status == cudaStreamCaptureStatusActive;
  return s;
}
}  // namespace

CaptureSignalEdges::CaptureSignalEdges() {
  if (t_installed) throw std::logic_error("CaptureSignalEdges: a capture is already installed on this thread");
  t_installed = this;
}

CaptureSignalEdges::~CaptureSignalEdges() { t_installed = nullptr; }

CaptureSignalEdges* CaptureSignalEdges::on_this_thread() { return t_installed; }

void CaptureSignalEdges::after_write(cudaStream_t stream, const CudaSignalSet& set, std::size_t index,
                                     std::uint64_t value) {
  const CaptureState s = capture_state(stream);
  if (!s.active) return;
  // Right after the write, the stream's dependency set is the write node itself.
  book_.wrote({&set, index, value}, s.id, std::vector<cudaGraphNode_t>(s.deps, s.deps + s.deps_count));
}

void CaptureSignalEdges::before_wait(cudaStream_t stream, const CudaSignalSet& set, std::size_t index,
                                     std::uint64_t value) {
  const CaptureState s = capture_state(stream);
  if (!s.active) return;
  std::vector<cudaGraphNode_t> nodes = book_.write_of({&set, index, value}, s.id);
  if (nodes.empty()) return;
  DPB_CUDA_CHECK(cudaStreamUpdateCaptureDependencies(stream, nodes.data(), nullptr, nodes.size(),
                                                     cudaStreamAddCaptureDependencies));
}

}  // namespace dpb
