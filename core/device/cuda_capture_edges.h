// Graph edges for signals during a fork-join capture (core/graph/cuda_graph.cpp).
//
// The problem: a p2p schedule orders ranks with stream memory operations (cuda_signals.h). Inside
// one fork-join graph, a rank's wait node (cuStreamWaitValue64) and the other rank's write node
// (cuStreamWriteValue64) would have no edge between them, and the driver's Stream Memory
// Operations section warns that such ordering is invisible to CUDA: the graph executor may put
// the wait ahead of its write on one hardware queue and the replay never finishes.
// CUDA_DEVICE_MAX_CONNECTIONS (cuda_backend.cpp) does not help here: how a graph's branches map
// onto queues is the executor's choice.
//
// The fix, as the driver asks ("have that order expressed with CUDA-visible dependencies"): while
// a capture is installed on the capturing thread, every captured signal write remembers its graph
// node, and every captured wait first adds that node to its stream's capture dependencies
// (cudaStreamUpdateCaptureDependencies). The wait node then runs only after its write completed,
// so it never spins, on any queue mapping, also for ranks sharing one GPU. The wait node stays in
// the graph (it is satisfied at once; removing it would make the captured work differ from the
// uncaptured one). Chosen over capturing each rank into its own graph (per_stream) because one
// graph keeps the replay a single launch; over refusing because every case becomes safe.
//
// The capture must enqueue each wait after its write, from the thread that installed this
// (Communicator::allreduce enqueues all ranks in the schedule's sequential order); otherwise the
// wait throws std::logic_error and the capture is abandoned. Only compiled with CUDA.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "device/cuda_signal_edges.h"

namespace dpb {

class CudaSignalSet;

class CaptureSignalEdges {
 public:
  // Installs on the calling thread until destroyed (at most one per thread).
  CaptureSignalEdges();
  ~CaptureSignalEdges();
  CaptureSignalEdges(const CaptureSignalEdges&) = delete;
  CaptureSignalEdges& operator=(const CaptureSignalEdges&) = delete;

  // The one installed on this thread, or nullptr (the common, uncaptured case).
  static CaptureSignalEdges* on_this_thread();

  // After a write was enqueued on `stream`: remembers its node if the stream is capturing.
  void after_write(cudaStream_t stream, const CudaSignalSet& set, std::size_t index, std::uint64_t value);
  // Before a wait is enqueued on `stream`: makes the write's node a dependency if the stream is
  // capturing; throws std::logic_error when the write is not in this capture.
  void before_wait(cudaStream_t stream, const CudaSignalSet& set, std::size_t index, std::uint64_t value);

 private:
  SignalEdgeBook<cudaGraphNode_t> book_;
};

}  // namespace dpb
