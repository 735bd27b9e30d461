#include "graph/cuda_graph.h"

#include <string>
#include <utility>
#include <vector>

#include "device/cuda_capture_edges.h"
#include "device/cuda_check.h"
#include "device/cuda_handles.h"
#include "device/cuda_stream.h"

namespace dpb {

// ---- RAII ------------------------------------------------------------------------------------

CudaGraph::~CudaGraph() {
  if (graph_) DPB_CUDA_WARN(cudaGraphDestroy(graph_));
}

CudaGraph& CudaGraph::operator=(CudaGraph&& other) noexcept {
  if (this != &other) {
    if (graph_) DPB_CUDA_WARN(cudaGraphDestroy(graph_));
    graph_ = std::exchange(other.graph_, nullptr);
  }
  return *this;
}

std::size_t CudaGraph::node_count() const {
  std::size_t n = 0;
  if (graph_) DPB_CUDA_CHECK(cudaGraphGetNodes(graph_, nullptr, &n));
  return n;
}

CudaGraphExec::CudaGraphExec(const CudaGraph& graph) { DPB_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph.get(), 0)); }

CudaGraphExec::~CudaGraphExec() {
  if (exec_) DPB_CUDA_WARN(cudaGraphExecDestroy(exec_));
}

void CudaGraphExec::launch(cudaStream_t stream) const { DPB_CUDA_CHECK(cudaGraphLaunch(exec_, stream)); }

namespace {

constexpr cudaStreamCaptureMode kCaptureMode = cudaStreamCaptureModeThreadLocal;

struct Target {
  cudaStream_t stream;
  int device;
};

std::vector<Target> targets_of(std::span<Stream* const> streams) {
  std::vector<Target> t;
  for (Stream* s : streams) t.push_back({cuda_stream_handle(*s), s->device()});
  return t;
}

// Ends a capture that failed part-way so the stream is usable again; the partial graph is dropped.
void abandon_capture(const Target& t) noexcept {
  CudaDeviceGuard guard(t.device, std::nothrow);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (!DPB_CUDA_WARN(cudaStreamIsCapturing(t.stream, &status)) || status == cudaStreamCaptureStatusNone) return;
  cudaGraph_t partial = nullptr;
  (void)cudaStreamEndCapture(t.stream, &partial);  // fails for an invalidated capture; that is expected
  (void)cudaGetLastError();
  if (partial) DPB_CUDA_WARN(cudaGraphDestroy(partial));
}

// Best effort, for the failure path of a fork-join capture: joins[k - 1] joins stream k.
void join_back(const std::vector<Target>& targets, const std::vector<std::unique_ptr<CudaEvent>>& joins) noexcept {
  const Target& origin = targets[0];
  for (std::size_t k = 1; k < targets.size(); ++k) {
    CudaDeviceGuard guard(targets[k].device, std::nothrow);
    if (cudaEventRecord(joins[k - 1]->handle(), targets[k].stream) == cudaSuccess) {
      CudaDeviceGuard origin_guard(origin.device, std::nothrow);
      (void)cudaStreamWaitEvent(origin.stream, joins[k - 1]->handle(), 0);
    }
    (void)cudaGetLastError();  // an invalidated capture rejects these; ending it still works
  }
}

class ForkJoinGraph final : public CapturedWork {
 public:
  ForkJoinGraph(std::vector<Target> targets, CudaGraph graph)
      : targets_(std::move(targets)), graph_(std::move(graph)), nodes_(graph_.node_count()), exec_(graph_) {
    for (std::size_t k = 1; k < targets_.size(); ++k) before_.push_back(std::make_unique<CudaEvent>(targets_[k].device, false));
    after_ = std::make_unique<CudaEvent>(targets_[0].device, false);
  }

  void launch() override {
    const Target& origin = targets_[0];
    // Work already on the other streams must precede the replay of their parts.
    for (std::size_t k = 1; k < targets_.size(); ++k) {
      {
        CudaDeviceGuard guard(targets_[k].device);
        DPB_CUDA_CHECK(cudaEventRecord(before_[k - 1]->handle(), targets_[k].stream));
      }
      CudaDeviceGuard guard(origin.device);
      DPB_CUDA_CHECK(cudaStreamWaitEvent(origin.stream, before_[k - 1]->handle(), 0));
    }
    {
      CudaDeviceGuard guard(origin.device);
      exec_.launch(origin.stream);
      DPB_CUDA_CHECK(cudaEventRecord(after_->handle(), origin.stream));
    }
    for (std::size_t k = 1; k < targets_.size(); ++k) {
      CudaDeviceGuard guard(targets_[k].device);
      DPB_CUDA_CHECK(cudaStreamWaitEvent(targets_[k].stream, after_->handle(), 0));
    }
  }

  std::size_t nodes() const override { return nodes_; }
  std::size_t graphs() const override { return 1; }
  GraphCapture strategy() const override { return GraphCapture::fork_join; }

 private:
  std::vector<Target> targets_;
  CudaGraph graph_;
  std::size_t nodes_;
  CudaGraphExec exec_;
  std::vector<std::unique_ptr<CudaEvent>> before_;
  std::unique_ptr<CudaEvent> after_;
};

class PerStreamGraphs final : public CapturedWork {
 public:
  PerStreamGraphs(std::vector<Target> targets, std::vector<CudaGraph> graphs) : targets_(std::move(targets)) {
    for (std::size_t k = 0; k < graphs.size(); ++k) {
      CudaDeviceGuard guard(targets_[k].device);
      nodes_ += graphs[k].node_count();
      execs_.emplace_back(graphs[k]);
    }
    graphs_ = std::move(graphs);
  }

  void launch() override {
    for (std::size_t k = 0; k < targets_.size(); ++k) {
      CudaDeviceGuard guard(targets_[k].device);
      execs_[k].launch(targets_[k].stream);
    }
  }

  std::size_t nodes() const override { return nodes_; }
  std::size_t graphs() const override { return graphs_.size(); }
  GraphCapture strategy() const override { return GraphCapture::per_stream; }

 private:
  std::vector<Target> targets_;
  std::vector<CudaGraph> graphs_;
  std::vector<CudaGraphExec> execs_;
  std::size_t nodes_ = 0;
};

std::unique_ptr<CapturedWork> capture_fork_join(std::vector<Target> targets, const std::function<void()>& enqueue) {
  const Target& origin = targets[0];
  // Created before the capture begins and destroyed after it ends: no event API runs mid-capture
  // other than record and wait.
  const auto fork = std::make_unique<CudaEvent>(origin.device, false);
  std::vector<std::unique_ptr<CudaEvent>> joins;
  for (std::size_t k = 1; k < targets.size(); ++k) joins.push_back(std::make_unique<CudaEvent>(targets[k].device, false));
  {
    CudaDeviceGuard guard(origin.device);
    DPB_CUDA_CHECK(cudaStreamBeginCapture(origin.stream, kCaptureMode));
  }
  try {
    {
      CudaDeviceGuard guard(origin.device);
      DPB_CUDA_CHECK(cudaEventRecord(fork->handle(), origin.stream));
    }
    for (std::size_t k = 1; k < targets.size(); ++k) {
      CudaDeviceGuard guard(targets[k].device);
      DPB_CUDA_CHECK(cudaStreamWaitEvent(targets[k].stream, fork->handle(), 0));
    }
    {
      // Every captured signal wait gets its write as a graph edge (cuda_capture_edges.h): without
      // it the executor may run a wait ahead of its write on one queue and the replay deadlocks.
      CaptureSignalEdges edges;
      enqueue();
    }
    for (std::size_t k = 1; k < targets.size(); ++k) {
      {
        CudaDeviceGuard guard(targets[k].device);
        DPB_CUDA_CHECK(cudaEventRecord(joins[k - 1]->handle(), targets[k].stream));
      }
      CudaDeviceGuard guard(origin.device);
      DPB_CUDA_CHECK(cudaStreamWaitEvent(origin.stream, joins[k - 1]->handle(), 0));
    }
    cudaGraph_t graph = nullptr;
    {
      CudaDeviceGuard guard(origin.device);
      DPB_CUDA_CHECK(cudaStreamEndCapture(origin.stream, &graph));
    }
    CudaGraph owned(graph);
    CudaDeviceGuard guard(origin.device);
    return std::make_unique<ForkJoinGraph>(targets, std::move(owned));  // a copy: the catch below still needs them
  } catch (...) {
    // Join every forked stream back (an unjoined fork makes cudaStreamEndCapture fail), then end
    // the capture on the origin, which ends it for the whole sequence; the partial graph is dropped.
    join_back(targets, joins);
    for (const Target& t : targets) abandon_capture(t);
    throw;
  }
}

std::unique_ptr<CapturedWork> capture_per_stream(std::vector<Target> targets, const std::function<void()>& enqueue) {
  std::size_t begun = 0;
  std::vector<CudaGraph> graphs;
  try {
    for (; begun < targets.size(); ++begun) {
      CudaDeviceGuard guard(targets[begun].device);
      DPB_CUDA_CHECK(cudaStreamBeginCapture(targets[begun].stream, kCaptureMode));
    }
    enqueue();
    for (const Target& t : targets) {
      cudaGraph_t graph = nullptr;
      CudaDeviceGuard guard(t.device);
      DPB_CUDA_CHECK(cudaStreamEndCapture(t.stream, &graph));
      graphs.emplace_back(graph);
    }
  } catch (...) {
    for (const Target& t : targets) abandon_capture(t);
    throw;
  }
  return std::make_unique<PerStreamGraphs>(std::move(targets), std::move(graphs));
}

}  // namespace

std::unique_ptr<CapturedWork> capture_cuda_graph(std::span<Stream* const> streams, const std::function<void()>& enqueue,
                                                 GraphCapture strategy) {
  std::vector<Target> targets = targets_of(streams);  // throws std::invalid_argument for non-cuda streams
  return strategy == GraphCapture::fork_join ? capture_fork_join(std::move(targets), enqueue)
                                             : capture_per_stream(std::move(targets), enqueue);
}

}  // namespace dpb
