// The cuda stream gate: the spin kernel of kernels/stream_block.cu on host-mapped pinned flags.
#include <cuda_runtime_api.h>

#include <atomic>
#include <utility>
#include <vector>

#include "device/cuda_check.h"
#include "device/cuda_handles.h"
#include "device/cuda_objects.h"
#include "stream_block_launch.h"

namespace dpb {
namespace {

class CudaStreamGate final : public StreamGate {
 public:
  explicit CudaStreamGate(std::chrono::milliseconds timeout)
      : timeout_ns_(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count())) {
    void* host = nullptr;
    // Portable: the same flags serve streams of every device.
    DPB_CUDA_CHECK(cudaHostAlloc(&host, sizeof(cuda_kernels::StreamBlockFlags),
                                 cudaHostAllocMapped | cudaHostAllocPortable));
    flags_ = static_cast<cuda_kernels::StreamBlockFlags*>(host);
    flags_->released = 0;
    flags_->timeouts = 0;
    void* device = nullptr;
    const cudaError_t status = cudaHostGetDevicePointer(&device, host, 0);
    if (status != cudaSuccess) {
      DPB_CUDA_WARN(cudaFreeHost(host));
      DPB_CUDA_CHECK(status);
    }
    device_flags_ = static_cast<cuda_kernels::StreamBlockFlags*>(device);
  }

  ~CudaStreamGate() override {
    release();
    // The kernels read the flags until they exit; wait for them before freeing the memory.
    for (auto& [device, event] : pending_) {
      CudaDeviceGuard guard(device, std::nothrow);
      DPB_CUDA_WARN(cudaEventSynchronize(event));
      DPB_CUDA_WARN(cudaEventDestroy(event));
    }
    DPB_CUDA_WARN(cudaFreeHost(flags_));
  }

  CudaStreamGate(const CudaStreamGate&) = delete;
  CudaStreamGate& operator=(const CudaStreamGate&) = delete;

  void hold(Stream& stream) override {
    cudaStream_t handle = cuda_stream_handle(stream);
    CudaDeviceGuard guard(stream.device());
    prune_finished();
    cudaEvent_t done = nullptr;
    DPB_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    pending_.emplace_back(stream.device(), done);
    cuda_kernels::launch_stream_block(device_flags_, ++generation_, timeout_ns_, handle);
    DPB_CUDA_CHECK(cudaEventRecord(done, handle));
  }

  void release() override {
    // A release store the spinning kernel will observe through the mapping.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    flags_->released = generation_;
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  std::uint32_t timeouts() const override { return flags_->timeouts; }

 private:
  void prune_finished() {
    std::vector<std::pair<int, cudaEvent_t>> still;
    cudaError_t failure = cudaSuccess;
    for (auto& [device, event] : pending_) {
      CudaDeviceGuard guard(device, std::nothrow);
      const cudaError_t status = cudaEventQuery(event);
      if (status == cudaErrorNotReady) {
        (void)cudaGetLastError();
        still.emplace_back(device, event);
        continue;
      }
      if (status != cudaSuccess && failure == cudaSuccess) failure = status;
      DPB_CUDA_WARN(cudaEventDestroy(event));
    }
    pending_ = std::move(still);
    DPB_CUDA_CHECK(failure);  // an earlier hold's stream failed: report it here, not as a hang
  }

  std::uint64_t timeout_ns_;
  cuda_kernels::StreamBlockFlags* flags_ = nullptr;
  cuda_kernels::StreamBlockFlags* device_flags_ = nullptr;
  std::uint32_t generation_ = 0;
  std::vector<std::pair<int, cudaEvent_t>> pending_;  // completion events of holds not yet seen done
};

}  // namespace

std::unique_ptr<StreamGate> make_cuda_stream_gate(std::chrono::milliseconds timeout) {
  return std::make_unique<CudaStreamGate>(timeout);
}

}  // namespace dpb
