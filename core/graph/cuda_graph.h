// RAII owners of cudaGraph_t / cudaGraphExec_t and the CUDA side of capture_graph
// (core/graph/graph_capture.h). Only compiled with CUDA.
#pragma once
#include <cuda_runtime_api.h>

#include <functional>
#include <memory>
#include <span>

#include "graph/graph_capture.h"

namespace dpb {

class CudaGraph {
 public:
  CudaGraph() = default;
  explicit CudaGraph(cudaGraph_t graph) : graph_(graph) {}
  ~CudaGraph();
  CudaGraph(CudaGraph&& other) noexcept : graph_(other.graph_) { other.graph_ = nullptr; }
  CudaGraph& operator=(CudaGraph&& other) noexcept;
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  cudaGraph_t get() const { return graph_; }
  std::size_t node_count() const;

 private:
  cudaGraph_t graph_ = nullptr;
};

class CudaGraphExec {
 public:
  // cudaGraphInstantiate; throws DeviceError.
  explicit CudaGraphExec(const CudaGraph& graph);
  ~CudaGraphExec();
  CudaGraphExec(CudaGraphExec&& other) noexcept : exec_(other.exec_) { other.exec_ = nullptr; }
  CudaGraphExec& operator=(CudaGraphExec&&) = delete;
  CudaGraphExec(const CudaGraphExec&) = delete;
  CudaGraphExec& operator=(const CudaGraphExec&) = delete;

  // cudaGraphLaunch on `stream` (the caller sets the stream's device current).
  void launch(cudaStream_t stream) const;
  cudaGraphExec_t get() const { return exec_; }

 private:
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace dpb
