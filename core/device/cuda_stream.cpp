#include "device/cuda_stream.h"

#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "device/cuda_capture_edges.h"
#include "device/cuda_check.h"
#include "device/cuda_handles.h"
#include "device/cuda_signals.h"
#include "elementwise_launch.h"

namespace dpb {

// ---- CudaEvent -------------------------------------------------------------------------------

CudaEvent::CudaEvent(int device, bool timing) : device_(device), timing_(timing) {
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming));
}

CudaEvent::~CudaEvent() {
  if (!event_) return;
  CudaDeviceGuard guard(device_, std::nothrow);
  DPB_CUDA_WARN(cudaEventDestroy(event_));
}

void CudaEvent::synchronize() {
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaEventSynchronize(event_));
}

bool CudaEvent::query() {
  CudaDeviceGuard guard(device_);
  const cudaError_t status = cudaEventQuery(event_);
  if (status == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  DPB_CUDA_CHECK(status);
  return true;
}

double CudaEvent::elapsed_ms_since(const Event& start) const {
  const auto* s = dynamic_cast<const CudaEvent*>(&start);
  if (!s) throw std::invalid_argument("elapsed_ms_since: events from different backends");
  if (!timing_ || !s->timing_) {
    throw std::invalid_argument("elapsed_ms_since: both events must be timing events (make_event(device, true))");
  }
  if (s->device_ != device_) {
    // cudaEventElapsedTime cannot compare two devices' clocks; say so instead of its opaque error.
    throw std::invalid_argument("elapsed_ms_since: events of devices " + std::to_string(s->device_) + " and " +
                                std::to_string(device_) + " (both must be on one device)");
  }
  CudaDeviceGuard guard(device_);
  float ms = 0.0f;
  DPB_CUDA_CHECK(cudaEventElapsedTime(&ms, s->event_, event_));
  return static_cast<double>(ms);
}

// ---- CudaStream ------------------------------------------------------------------------------

CudaStream::CudaStream(int device, int sm_count, std::optional<std::string> signals_refusal)
    : device_(device), sm_count_(sm_count), signals_refusal_(std::move(signals_refusal)) {
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

CudaStream::~CudaStream() {
  if (!stream_) return;
  CudaDeviceGuard guard(device_, std::nothrow);
  DPB_CUDA_WARN(cudaStreamDestroy(stream_));
}

void CudaStream::copy(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
}

void CudaStream::copy_peer(void* dst, int dst_device, const void* src, int src_device, std::size_t bytes) {
  if (bytes == 0) return;
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes, stream_));
}

void CudaStream::copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
}

void CudaStream::copy_from_host(void* dst, const void* host_src, std::size_t bytes) {
  if (bytes == 0) return;
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream_));
}

void CudaStream::fill(DType type, void* dst, std::size_t count, double value) {
  CudaDeviceGuard guard(device_);
  cuda_kernels::launch_fill(type, dst, count, value, stream_, sm_count_);
}

void CudaStream::reduce_add(DType type, void* dst, const void* src, std::size_t count) {
  CudaDeviceGuard guard(device_);
  cuda_kernels::launch_reduce_add(type, dst, src, count, stream_, sm_count_);
}

void CudaStream::scale(DType type, void* data, std::size_t count, float factor) {
  CudaDeviceGuard guard(device_);
  cuda_kernels::launch_scale(type, data, count, factor, stream_, sm_count_);
}

void CudaStream::cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count) {
  CudaDeviceGuard guard(device_);
  cuda_kernels::launch_cast(dst_type, dst, src_type, src, count, stream_, sm_count_);
}

void CudaStream::record(Event& event) {
  auto* e = dynamic_cast<CudaEvent*>(&event);
  if (!e) throw std::invalid_argument("CudaStream::record: not a cuda event");
  if (e->device() != device_) {
    // CUDA refuses this with an opaque "invalid resource handle"; say what is wrong instead.
    throw std::invalid_argument("CudaStream::record: event of device " + std::to_string(e->device()) +
                                " recorded on a stream of device " + std::to_string(device_) +
                                " (record on a stream of the event's device; waits may cross devices)");
  }
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaEventRecord(e->handle(), stream_));
}

void CudaStream::wait(const Event& event) {
  const auto* e = dynamic_cast<const CudaEvent*>(&event);
  if (!e) throw std::invalid_argument("CudaStream::wait: not a cuda event");
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaStreamWaitEvent(stream_, e->handle(), 0));
}

namespace {
const CudaSignalSet& cuda_signals(const SignalSet& signals, const char* what) {
  const auto* set = dynamic_cast<const CudaSignalSet*>(&signals);
  if (!set) throw std::invalid_argument(std::string(what) + ": not a cuda signal set");
  return *set;
}
}  // namespace

// The guard costs nothing where the rank's thread already has its device current (thread per rank).
void CudaStream::write_signal(SignalSet& signals, std::size_t index, std::uint64_t value) {
  if (signals_refusal_) throw std::invalid_argument(*signals_refusal_);
  CudaDeviceGuard guard(device_);
  const CudaSignalSet& set = cuda_signals(signals, "CudaStream::write_signal");
  cuda_write_signal(stream_, device_, set, index, value);
  // Inside a fork-join capture the write's node becomes the edge its waits hang on.
  if (CaptureSignalEdges* edges = CaptureSignalEdges::on_this_thread()) edges->after_write(stream_, set, index, value);
}

void CudaStream::wait_signal(const SignalSet& signals, std::size_t index, std::uint64_t value) {
  if (signals_refusal_) throw std::invalid_argument(*signals_refusal_);
  CudaDeviceGuard guard(device_);
  const CudaSignalSet& set = cuda_signals(signals, "CudaStream::wait_signal");
  if (CaptureSignalEdges* edges = CaptureSignalEdges::on_this_thread()) edges->before_wait(stream_, set, index, value);
  cuda_wait_signal(stream_, device_, set, index, value);
}

void CudaStream::synchronize() {
  CudaDeviceGuard guard(device_);
  DPB_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

bool CudaStream::query() {
  CudaDeviceGuard guard(device_);
  const cudaError_t status = cudaStreamQuery(stream_);
  if (status == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  DPB_CUDA_CHECK(status);
  return true;
}

// ---- native handles --------------------------------------------------------------------------

cudaStream_t cuda_stream_handle(Stream& stream) {
  auto* s = dynamic_cast<CudaStream*>(&stream);
  if (!s) throw std::invalid_argument("cuda_stream_handle: the stream does not belong to the cuda backend");
  return s->handle();
}

cudaEvent_t cuda_event_handle(Event& event) {
  auto* e = dynamic_cast<CudaEvent*>(&event);
  if (!e) throw std::invalid_argument("cuda_event_handle: the event does not belong to the cuda backend");
  return e->handle();
}

}  // namespace dpb
