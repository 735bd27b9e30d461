// The cuda backend: CUDA streams and events, cudaMemcpyPeerAsync, and the kernels in kernels/.
// Only compiled where CUDA was found at build time (DPBENCH_HAVE_CUDA).
#pragma once
#include <memory>

#include "device/backend.h"

namespace dpb {

std::unique_ptr<Backend> make_cuda_backend();

}  // namespace dpb
