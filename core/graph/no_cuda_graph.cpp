// capture_cuda_graph in a build without CUDA (cuda_graph.cpp in CUDA builds; core/CMakeLists.txt
// compiles one of the two).
#include <stdexcept>

#include "graph/graph_capture.h"

namespace dpb {

std::unique_ptr<CapturedWork> capture_cuda_graph(std::span<Stream* const>, const std::function<void()>&,
                                                 GraphCapture) {
  throw std::invalid_argument("CUDA graphs need the cuda backend, and this dpbench was built without CUDA");
}

}  // namespace dpb
