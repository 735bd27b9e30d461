// The device backend seam (ARCHITECTURE.md, seam 1): devices, streams, events, buffers and the
// primitives the harness enqueues on streams. Two implementations: `cpu` (host memory plus one
// worker thread per stream) and `cuda`. Everything above this header is backend-agnostic.
//
// The backend is also the only factory for backend-specific objects (the model's kernels, the stream
// gate, profiling ranges on a stream, what links two devices): code above device/ asks the backend or
// its stream for them and never names a backend.
//
// Semantics follow CUDA's so that code written against the interface behaves the same on both:
// - work enqueued on one stream runs in order; different streams run concurrently;
// - Stream::wait(e) makes later work on that stream wait for the most recent Event::record of `e`
//   that was enqueued before the wait call (a never-recorded event is already complete);
// - host memory passed to copy_to_host/copy_from_host must stay alive until the stream is synced;
// - an error inside enqueued work surfaces as an exception from a later synchronize/query.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "device/dtype.h"
#include "device/stream_gate.h"

namespace dpb {

class ModelOps;  // device/model_ops.h

enum class BackendKind { cpu, cuda };

std::string_view backend_name(BackendKind kind);

// What the harness knows about one device. Fields a backend cannot read stay empty.
struct DeviceProperties {
  int index = 0;
  std::string name;
  bool simulated = false;  // true for the cpu backend's host-memory devices
  std::size_t memory_bytes = 0;
  std::optional<std::string> uuid;
  std::optional<std::string> pci_bus_id;
  std::optional<int> sm_count;
  std::optional<std::string> compute_capability;
  std::optional<double> clock_mhz;
  std::optional<double> memory_clock_mhz;
  std::optional<bool> ecc_enabled;
};

// How one device reaches another (schema $defs/system.peers). Fields a backend cannot read stay empty.
struct PeerLink {
  bool access_supported = false;
  std::optional<int> performance_rank;  // 0 = best link (cuda: cudaDevP2PAttrPerformanceRank)
  std::optional<bool> native_atomics;   // cuda: cudaDevP2PAttrNativeAtomicSupported
  // Set where the backend itself knows ("host memory (cpu-simulated)"); empty where only NVML can
  // tell (core/system/peers.cpp asks it then).
  std::optional<std::string> link;
};

// A profiling range opened on a stream (Stream::open_range); destroying it closes the range.
class StreamRange {
 public:
  virtual ~StreamRange() = default;
};

// Device memory: move-only, freed by the backend that allocated it.
class DeviceBuffer {
 public:
  using Deleter = std::function<void(void*)>;
  DeviceBuffer() = default;
  DeviceBuffer(void* data, std::size_t bytes, int device, Deleter deleter)
      : data_(data), bytes_(bytes), device_(device), deleter_(std::move(deleter)) {}
  DeviceBuffer(DeviceBuffer&& other) noexcept { swap(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    DeviceBuffer tmp(std::move(other));
    swap(tmp);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (data_ && deleter_) deleter_(data_);
  }

  void* data() const { return data_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  std::size_t bytes() const { return bytes_; }
  int device() const { return device_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  void swap(DeviceBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    std::swap(device_, o.device_);
    std::swap(deleter_, o.deleter_);
  }
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  int device_ = -1;
  Deleter deleter_;
};

class Event {
 public:
  virtual ~Event() = default;
  virtual int device() const = 0;
  // Blocks the calling thread until the most recent record has completed.
  virtual void synchronize() = 0;
  // True when the most recent record has completed (or there was none).
  virtual bool query() = 0;
  // Milliseconds between the completion of `start`'s and this event's most recent records.
  // Both must be timing events that have completed.
  virtual double elapsed_ms_since(const Event& start) const = 0;
};

// Counters in memory that the streams of every device can write and wait on: how ranks signal each
// other without the host ordering their enqueues (ARCHITECTURE.md, "signals name their
// generation"). cuda: 64-bit words in host-mapped memory written and polled by stream memory
// operations (cuStreamWriteValue64 / cuStreamWaitValue64 GEQ); cpu: atomics the workers wait on.
class SignalSet {
 public:
  virtual ~SignalSet() = default;
  virtual std::size_t size() const = 0;
  // The host's view of slot `index` (diagnostics and tests).
  virtual std::uint64_t load(std::size_t index) const = 0;
  // Sets every slot back to 0 from the host. Only while no stream has pending work that writes or
  // waits on these slots (after a synchronize): how a captured graph, whose waits name fixed
  // values, is replayed.
  virtual void reset() = 0;
  // Satisfies every pending and later wait on these slots (a value no generation reaches): how an
  // aborted collective lets its streams drain, since no CUDA call ends a stream memory wait. The
  // data of the calls in flight is garbage afterwards; the caller has already failed them.
  virtual void release_all() = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual int device() const = 0;

  // Byte copies. `copy` stays on this stream's device; `copy_peer` moves bytes between devices
  // (cudaMemcpyPeerAsync on cuda; the same device on both sides is allowed).
  virtual void copy(void* dst, const void* src, std::size_t bytes) = 0;
  virtual void copy_peer(void* dst, int dst_device, const void* src, int src_device, std::size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, std::size_t bytes) = 0;
  virtual void copy_from_host(void* dst, const void* host_src, std::size_t bytes) = 0;

  // Typed element operations (kernels/reduce_math.h does the arithmetic on both backends).
  virtual void fill(DType type, void* dst, std::size_t count, double value) = 0;
  // dst[i] = dst[i] + src[i]; 16-bit types add in fp32 and round once.
  virtual void reduce_add(DType type, void* dst, const void* src, std::size_t count) = 0;
  // data[i] = data[i] * factor
  virtual void scale(DType type, void* data, std::size_t count, float factor) = 0;
  // dst[i] = (dst_type) src[i], rounding to nearest even
  virtual void cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count) = 0;

  virtual void record(Event& event) = 0;
  virtual void wait(const Event& event) = 0;

  // After all earlier work on this stream, sets slot `index` to `value` (the values one slot is
  // given only grow). Memory that earlier work wrote is visible to a stream whose wait_signal on
  // the slot has been satisfied by this write.
  virtual void write_signal(SignalSet& signals, std::size_t index, std::uint64_t value) = 0;
  // Later work on this stream waits until slot `index` holds at least `value`, whenever the write
  // is enqueued (before or after this call, by any thread): unlike wait(Event), no host ordering.
  virtual void wait_signal(const SignalSet& signals, std::size_t index, std::uint64_t value) = 0;
  // Blocks the caller until all enqueued work is done; rethrows the first error of that work.
  virtual void synchronize() = 0;
  virtual bool query() = 0;

  // A profiling range (NVTX, domain "dpbench", device/nvtx.h) named `name` around the work enqueued
  // on this stream until the returned range is destroyed, opened and closed by the thread that runs
  // that work (cpu: the stream's worker). nullptr where no host thread of the stream's own runs its
  // work (cuda): a host range over the enqueueing stands for it then, as PyTorch's NVTX ranges do.
  virtual std::unique_ptr<StreamRange> open_range(const std::string& name);
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;
  std::string_view name() const { return backend_name(kind()); }

  virtual int device_count() const = 0;
  virtual DeviceProperties properties(int device) const = 0;

  virtual DeviceBuffer allocate(int device, std::size_t bytes) = 0;
  // Page-locked host memory (device() is -1) for copy_to_host / copy_from_host that must not block
  // the host: CUDA runs an async copy into pageable memory synchronously, so a host waiting on a
  // watchdog would be stuck inside the copy call instead. cpu: ordinary host memory.
  virtual DeviceBuffer allocate_pinned(std::size_t bytes) = 0;
  virtual std::unique_ptr<Stream> make_stream(int device) = 0;
  // A timing event can be used with elapsed_ms_since; a non-timing event is cheaper (cuda).
  virtual std::unique_ptr<Event> make_event(int device, bool timing = true) = 0;
  // `count` signal slots, all 0, usable by streams of every device of this backend.
  virtual std::unique_ptr<SignalSet> make_signals(std::size_t count) = 0;
  // Operations a stream may hold pending before an enqueue blocks the host: about a thousand on
  // CUDA (FACTS.md; kept a little under), CpuBackendOptions::queue_depth on the cpu backend. A
  // stream held by a gate must never be given this many, or the host can never release it.
  virtual std::size_t stream_queue_depth() const = 0;

  // Peer access from `device` to memory of `peer`. Copies work without it (staged by the driver
  // on cuda); enabling it is idempotent. Same-device pairs are trivially accessible.
  virtual bool can_access_peer(int device, int peer) const = 0;
  virtual void enable_peer_access(int device, int peer) = 0;
  virtual void disable_peer_access(int device, int peer) = 0;

  // Tears down after a timeout: every blocked and later wait of this backend's streams fails
  // (cpu). cuda: nothing to do here (work waiting on a peer that never comes is ended by the
  // communicator's own abort, e.g. ncclCommAbort, or the process exits).
  virtual void abort() {}

  // Process per rank (core/world/world.h): device memory the other processes of this node can
  // map, so a schedule's copies and signals reach a peer process's buffers directly (as vLLM's
  // custom all-reduce does with CUDA IPC handles). The owner allocates and passes `handle` to the
  // peers (through the World); each peer opens it; once every peer has, the owner seals it (cpu:
  // the name is removed, so nothing outlives the job even when a process dies). The mappings stay
  // valid until their DeviceBuffers are destroyed. `device` kSharedHost asks for host memory
  // instead: the host reads and writes it and every device's streams reach it (where signals
  // shared between processes live, make_signals_in). cpu: POSIX shared memory. cuda: device
  // buffers through CUDA IPC (cudaIpcGetMemHandle / cudaIpcOpenMemHandle; a handle cannot be
  // opened in the process that made it), host memory as POSIX shared memory registered with
  // cudaHostRegister (core/device/cuda_shared_memory.h). The defaults refuse.
  static constexpr int kSharedHost = -1;
  struct SharedBuffer {
    DeviceBuffer buffer;
    std::string handle;
  };
  // Whether the calls below work here (every process of a job gets the same answer, so a collective
  // set-up can refuse before any process waits on another).
  virtual bool can_share_between_processes() const { return false; }
  virtual SharedBuffer allocate_shared(int device, std::size_t bytes);
  virtual DeviceBuffer open_shared(int device, const std::string& handle, std::size_t bytes);
  virtual void seal_shared(const std::string& handle);
  // `count` signal slots living in `memory` (8-byte aligned, count * 8 bytes, zero-filled by its
  // owner), which streams of other processes may write and wait on too. The memory must outlive
  // the set and all work enqueued on it. cpu: waits poll with backoff (no cross-process wake-up).
  virtual std::unique_ptr<SignalSet> make_signals_in(void* memory, std::size_t count);

  // ---- Backend-specific objects: the backend is their only factory ----
  // The defaults (backend_objects.cpp) are the cuda backend's implementations where CUDA is compiled
  // in and kind() is cuda, else a refusal naming the backend; CpuBackend overrides them.

  // The model's kernels on `compute`, a stream of this backend (device/model_ops.h). Throws
  // std::invalid_argument where the backend has no model kernels in this build.
  virtual std::unique_ptr<ModelOps> make_model_ops(Stream& compute);
  // A gate that holds this backend's streams while timed work is queued (device/stream_gate.h).
  // Throws std::invalid_argument for a timeout that is not positive.
  std::unique_ptr<StreamGate> make_stream_gate(std::chrono::milliseconds timeout = kDefaultGateTimeout);
  // What links `device` to `peer` (distinct devices of this backend). Never throws for an
  // unreadable attribute (empty instead).
  virtual PeerLink peer_link(int device, int peer) const;

  // Throws std::invalid_argument naming the device when it does not exist.
  void check_device(int device) const;

 protected:
  // make_stream_gate after the timeout was checked.
  virtual std::unique_ptr<StreamGate> new_stream_gate(std::chrono::milliseconds timeout);
};

// Validates and describes `--backend auto|cpu|cuda` choices.
struct BackendChoice {
  BackendKind kind;
  std::string why;  // e.g. "auto: 1 CUDA device visible"
};

// Options for the cpu backend's simulated devices.
struct CpuBackendOptions {
  int devices = 8;
  // Reported, and enforced by allocate (beyond it a DeviceError "out of memory"). 0: a share of the
  // host memory available when the backend is made (system/host_memory.h), so a simulated device
  // never claims memory the host does not have.
  std::size_t memory_per_device = 0;
  // Operations a stream may hold pending before an enqueue blocks the host, as CUDA blocks at
  // about a thousand: a design that would stall a GPU's host thread stalls here too.
  std::size_t queue_depth = 1024;
};

// Resolves "auto" (cuda when compiled in and a device is visible), "cpu" or "cuda"; throws
// std::invalid_argument with a clear message when the choice is unknown or unavailable.
BackendChoice choose_backend(std::string_view requested);
std::unique_ptr<Backend> make_backend(BackendKind kind, const CpuBackendOptions& cpu = {});

// Number of visible CUDA devices: 0 without the cuda backend or without a driver/GPU.
int visible_cuda_devices();
bool cuda_compiled_in();
// The backends compiled into this binary, cpu first ("cpu", and "cuda" where compiled in).
std::vector<BackendKind> compiled_backends();

}  // namespace dpb
