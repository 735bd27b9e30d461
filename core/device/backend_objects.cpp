// The backend's factory methods for backend-specific objects: the checks every backend shares, and
// the defaults. A default is the cuda backend's implementation (device/cuda_objects.h) where CUDA is
// compiled in and the backend is cuda (so CudaBackend, cuda_backend.cpp, need not repeat them), else
// a refusal naming the backend. The cpu backend overrides every one.
#include <stdexcept>
#include <string>

#include "device/backend.h"
#include "device/model_ops.h"
#if DPBENCH_HAVE_CUDA
#include "device/cuda_objects.h"
#endif

namespace dpb {

std::unique_ptr<StreamRange> Stream::open_range(const std::string&) { return nullptr; }

std::unique_ptr<StreamGate> Backend::make_stream_gate(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) throw std::invalid_argument("stream gate: the timeout must be positive");
  return new_stream_gate(timeout);
}

std::unique_ptr<ModelOps> Backend::make_model_ops(Stream& compute) {
#if DPBENCH_HAVE_CUDA
  if (kind() == BackendKind::cuda) return make_cuda_model_ops(compute);
#endif
  (void)compute;
  throw std::invalid_argument("no model kernels for the " + std::string(name()) + " backend in this build");
}

std::unique_ptr<StreamGate> Backend::new_stream_gate(std::chrono::milliseconds timeout) {
#if DPBENCH_HAVE_CUDA
  if (kind() == BackendKind::cuda) return make_cuda_stream_gate(timeout);
#endif
  (void)timeout;
  throw std::invalid_argument("stream gate: none for the " + std::string(name()) + " backend in this build");
}

PeerLink Backend::peer_link(int device, int peer) const {
#if DPBENCH_HAVE_CUDA
  if (kind() == BackendKind::cuda) return cuda_peer_link(device, peer);
#endif
  PeerLink link;
  link.access_supported = can_access_peer(device, peer);
  return link;
}

std::vector<BackendKind> compiled_backends() {
  std::vector<BackendKind> kinds{BackendKind::cpu};
  if (cuda_compiled_in()) kinds.push_back(BackendKind::cuda);
  return kinds;
}

}  // namespace dpb
