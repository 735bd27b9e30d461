// CUDA-graph capture of work enqueued on several streams, for `dpbench allreduce --graph N` (as
// nccl-tests -G): capture N collective calls once, then time graph launches instead of N API calls.
// Backend-agnostic entry points; the CUDA implementation is core/graph/cuda_graph.{h,cpp}.
//
//   if (auto why = graph_capture_unsupported(backend)) -> refuse --graph with *why
//   auto graph = capture_graph(backend, streams, [&] { for (i < N) comm.allreduce(..., streams); });
//   start.record on streams[0]; graph->launch(); stop.record on streams[0]  // launch() orders all streams
//
// Two strategies:
// - fork_join (default): one capture across all streams. Rank 0's stream begins the capture, the
//   other streams are forked into it with an event and joined back at the end, so one graph holds
//   every rank's work. Event waits inside `enqueue` become edges by themselves; the p2p schedules'
//   signal waits (stream memory operations, invisible to CUDA) are given their write's node as an
//   edge while capturing (core/device/cuda_capture_edges.h), so no replay can order a wait ahead
//   of its write on one hardware queue, also for ranks sharing a GPU. `enqueue` must therefore put
//   every signal wait after its write, from the calling thread (Communicator::allreduce does);
//   otherwise the capture fails with std::logic_error.
// - per_stream: one capture and one graph per stream (exactly what nccl-tests -G does with several
//   GPUs per thread). Work on one stream must not wait on another stream's events inside the
//   capture (CUDA refuses to merge two captures); NCCL's group calls satisfy this.
// Captures use cudaStreamCaptureModeThreadLocal (as nccl-tests: NCCL may allocate during a first
// capture, which global mode forbids on other threads).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "device/backend.h"

namespace dpb {

enum class GraphCapture { fork_join, per_stream };

std::string_view graph_capture_name(GraphCapture strategy);  // "fork_join", "per_stream"
// Parses "fork_join" / "per_stream"; throws std::invalid_argument naming `flag`.
GraphCapture parse_graph_capture(std::string_view text, std::string_view flag);

// Why `backend` cannot capture CUDA graphs; empty when it can (the cuda backend).
std::optional<std::string> graph_capture_unsupported(const Backend& backend);
inline bool capture_supported(const Backend& backend) { return !graph_capture_unsupported(backend); }

// Work captured once and replayed by launch().
class CapturedWork {
 public:
  virtual ~CapturedWork() = default;
  // Enqueues one replay. Ordering matches running `enqueue` again: each stream's replayed work
  // starts after the work enqueued on that stream before, and work enqueued on any of the streams
  // afterwards starts after the replay's work for that stream (fork_join: after the whole replay).
  virtual void launch() = 0;
  // Graph nodes (kernels, copies, ...) in all graphs: a sanity check that work was captured.
  virtual std::size_t nodes() const = 0;
  virtual std::size_t graphs() const = 0;  // 1 for fork_join, one per stream for per_stream
  virtual GraphCapture strategy() const = 0;
};

// Captures the work `enqueue` puts on `streams` (distinct streams of `backend`; they must outlive
// the result and be idle of other captures). `enqueue` must only enqueue (no synchronize/query of
// the captured streams). Throws std::invalid_argument when the backend cannot capture (the cpu
// backend) or the streams are unsuitable, std::logic_error when a fork-join capture meets a signal
// wait before its write, DeviceError when CUDA rejects the capture; the streams
// are left out of capture mode and usable in every case.
std::unique_ptr<CapturedWork> capture_graph(Backend& backend, std::span<Stream* const> streams,
                                            const std::function<void()>& enqueue,
                                            GraphCapture strategy = GraphCapture::fork_join);

// capture_graph for cuda streams (validated non-empty and distinct by capture_graph): cuda_graph.cpp
// in CUDA builds, a refusal in no_cuda_graph.cpp otherwise (core/CMakeLists.txt compiles one).
std::unique_ptr<CapturedWork> capture_cuda_graph(std::span<Stream* const> streams, const std::function<void()>& enqueue,
                                                 GraphCapture strategy);

}  // namespace dpb
