// The cuda backend's Stream and Event: RAII owners of a cudaStream_t / cudaEvent_t created on their
// device. Every call sets the device around itself (CudaDeviceGuard), so callers on any thread with
// any current device get the same behaviour. Only compiled with CUDA.
#pragma once
#include <cuda_runtime_api.h>

#include <optional>
#include <string>

#include "device/backend.h"

namespace dpb {

class CudaEvent final : public Event {
 public:
  // `timing` false creates the event with cudaEventDisableTiming (cheaper to record and wait on).
  CudaEvent(int device, bool timing);
  ~CudaEvent() override;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;

  int device() const override { return device_; }
  void synchronize() override;
  bool query() override;
  double elapsed_ms_since(const Event& start) const override;

  bool timing() const { return timing_; }
  cudaEvent_t handle() const { return event_; }

 private:
  int device_;
  bool timing_;
  cudaEvent_t event_ = nullptr;
};

class CudaStream final : public Stream {
 public:
  // A cudaStreamNonBlocking stream on `device` (it does not synchronize with the legacy default
  // stream); `sm_count` sizes the element kernels' grids. `signals_refusal` (from
  // cuda_signals_unsupported) is why write_signal/wait_signal cannot run on this device: they
  // then throw std::invalid_argument with it instead of enqueuing.
  CudaStream(int device, int sm_count, std::optional<std::string> signals_refusal = std::nullopt);
  ~CudaStream() override;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  int device() const override { return device_; }
  void copy(void* dst, const void* src, std::size_t bytes) override;
  void copy_peer(void* dst, int dst_device, const void* src, int src_device, std::size_t bytes) override;
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) override;
  void copy_from_host(void* dst, const void* host_src, std::size_t bytes) override;
  void fill(DType type, void* dst, std::size_t count, double value) override;
  void reduce_add(DType type, void* dst, const void* src, std::size_t count) override;
  void scale(DType type, void* data, std::size_t count, float factor) override;
  void cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count) override;
  void record(Event& event) override;
  void wait(const Event& event) override;
  void write_signal(SignalSet& signals, std::size_t index, std::uint64_t value) override;
  void wait_signal(const SignalSet& signals, std::size_t index, std::uint64_t value) override;
  void synchronize() override;
  bool query() override;

  cudaStream_t handle() const { return stream_; }

 private:
  int device_;
  int sm_count_;
  std::optional<std::string> signals_refusal_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace dpb
