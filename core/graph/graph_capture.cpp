#include "graph/graph_capture.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dpb {

std::string_view graph_capture_name(GraphCapture strategy) {
  return strategy == GraphCapture::fork_join ? "fork_join" : "per_stream";
}

GraphCapture parse_graph_capture(std::string_view text, std::string_view flag) {
  if (text == "fork_join") return GraphCapture::fork_join;
  if (text == "per_stream") return GraphCapture::per_stream;
  throw std::invalid_argument(std::string(flag) + ": unknown graph capture '" + std::string(text) +
                              "' (expected fork_join or per_stream)");
}

std::optional<std::string> graph_capture_unsupported(const Backend& backend) {
  if (backend.kind() == BackendKind::cpu) {
    return "CUDA graphs need the cuda backend: the cpu backend runs each stream's queue on a worker thread and has "
           "no graph to capture (capture needs the cuda backend on a GPU machine)";
  }
  if (!cuda_compiled_in()) return "CUDA graphs need the cuda backend, and this dpbench was built without CUDA";
  return std::nullopt;
}

std::unique_ptr<CapturedWork> capture_graph(Backend& backend, std::span<Stream* const> streams,
                                            const std::function<void()>& enqueue, GraphCapture strategy) {
  if (auto why = graph_capture_unsupported(backend)) throw std::invalid_argument(*why);
  if (streams.empty()) throw std::invalid_argument("capture_graph: no streams to capture");
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (!streams[i]) throw std::invalid_argument("capture_graph: a null stream");
    if (std::find(streams.begin(), streams.begin() + static_cast<std::ptrdiff_t>(i), streams[i]) !=
        streams.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("capture_graph: stream " + std::to_string(i) +
                                  " is listed twice (give each rank its own stream)");
    }
  }
  return capture_cuda_graph(streams, enqueue, strategy);
}

}  // namespace dpb
