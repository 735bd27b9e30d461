// The cpu backend: every device is host memory, every stream a worker thread running its queue in
// order. Waits block the stream's worker, not the caller. Copies and math are real; timings are
// honest host timings (steady_clock at the moment a worker reaches an event).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "device/backend.h"

namespace dpb {

// State shared by a cpu backend and everything it created; outlives the backend object if needed.
struct CpuBackendState {
  CpuBackendOptions options;
  std::atomic<bool> aborted{false};
  std::mutex memory_mutex;
  std::vector<std::size_t> allocated;  // bytes in use per device
  std::atomic<std::uint64_t> shared_serial{0};  // names this process's shared-memory segments
};

class CpuEvent final : public Event {
 public:
  // Record and completion state, shared with the stream tasks that record or wait on the event,
  // so the event may be destroyed while such work is pending (as cudaEventDestroy allows).
  struct Shared {
    explicit Shared(std::shared_ptr<CpuBackendState> s) : backend(std::move(s)) {}
    // Called by a worker when it reaches a record.
    void complete(std::uint64_t generation);
    // Blocks until `generation` has completed; throws DeviceError when the backend was aborted.
    void wait_for(std::uint64_t generation) const;

    std::shared_ptr<CpuBackendState> backend;
    mutable std::mutex mutex;
    mutable std::condition_variable cv;
    std::uint64_t recorded = 0;
    std::uint64_t completed = 0;
    std::chrono::steady_clock::time_point when{};
  };

  CpuEvent(int device, std::shared_ptr<CpuBackendState> state)
      : device_(device), shared_(std::make_shared<Shared>(std::move(state))) {}
  int device() const override { return device_; }
  void synchronize() override;
  bool query() override;
  double elapsed_ms_since(const Event& start) const override;

  // Called on the host when a record is enqueued; returns the generation the worker will complete.
  std::uint64_t enqueue_record();
  // Generation of the last record enqueued on the host (0: never recorded).
  std::uint64_t recorded_generation() const;
  const std::shared_ptr<Shared>& shared() const { return shared_; }

 private:
  int device_;
  std::shared_ptr<Shared> shared_;
};

// Signal slots: atomics, plus one condition variable that wakes the workers waiting on any slot.
class CpuSignalSet final : public SignalSet {
 public:
  static constexpr std::uint64_t kReleased = std::uint64_t{1} << 62;  // above any generation's value
  struct Shared {
    Shared(std::shared_ptr<CpuBackendState> s, std::size_t n)
        : backend(std::move(s)), own(n), values(own.data()), count(n) {}
    // Slots in memory other processes write too (make_signals_in): waits poll, since a write in
    // another process cannot notify this one's condition variable.
    Shared(std::shared_ptr<CpuBackendState> s, std::atomic<std::uint64_t>* external, std::size_t n)
        : backend(std::move(s)), values(external), count(n), process_shared(true) {}
    void write(std::size_t index, std::uint64_t value);
    // Blocks until slot `index` >= value; throws DeviceError when the backend was aborted.
    void wait_for(std::size_t index, std::uint64_t value) const;

    std::shared_ptr<CpuBackendState> backend;
    std::vector<std::atomic<std::uint64_t>> own;
    std::atomic<std::uint64_t>* values;
    std::size_t count;
    bool process_shared = false;
    mutable std::mutex mutex;
    mutable std::condition_variable cv;
  };
  CpuSignalSet(std::shared_ptr<CpuBackendState> state, std::size_t count)
      : shared_(std::make_shared<Shared>(std::move(state), count)) {}
  CpuSignalSet(std::shared_ptr<CpuBackendState> state, std::atomic<std::uint64_t>* external, std::size_t n)
      : shared_(std::make_shared<Shared>(std::move(state), external, n)) {}
  std::size_t size() const override { return shared_->count; }
  std::uint64_t load(std::size_t index) const override {
    if (index >= shared_->count) throw std::out_of_range("CpuSignalSet::load: slot out of range");
    return shared_->values[index].load();
  }
  void release_all() override {
    for (std::size_t i = 0; i < shared_->count; ++i) shared_->write(i, kReleased);
  }
  void reset() override {
    for (std::size_t i = 0; i < shared_->count; ++i) shared_->values[i].store(0);
  }
  // Shared with queued writes and waits, so the set may be destroyed while they are pending.
  const std::shared_ptr<Shared>& shared() const { return shared_; }

 private:
  std::shared_ptr<Shared> shared_;
};

class CpuStream final : public Stream {
 public:
  CpuStream(int device, std::shared_ptr<CpuBackendState> state);
  ~CpuStream() override;
  CpuStream(const CpuStream&) = delete;
  CpuStream& operator=(const CpuStream&) = delete;

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
  // Opened and closed by tasks on this stream, so the range sits on the worker that ran the work
  // (cpu_stream_range.cpp).
  std::unique_ptr<StreamRange> open_range(const std::string& name) override;

  // Enqueues arbitrary host work in stream order: how cpu implementations of model kernels
  // (GEMM, activations, optimizer) run on this stream. A throwing task poisons the stream: later
  // tasks are skipped (event records still complete, so peers never hang) and synchronize rethrows.
  // Blocks the caller while the stream holds CpuBackendOptions::queue_depth pending operations,
  // as a CUDA launch blocks the host once about a thousand are pending.
  void enqueue(std::function<void()> task);

 private:
  void run();
  // Enqueues a task that runs even on a poisoned stream (event bookkeeping).
  void enqueue_control(std::function<void()> task);
  void push(std::function<void()> task, bool control);

  struct Task {
    std::function<void()> fn;
    bool control;
  };
  int device_;
  std::shared_ptr<CpuBackendState> state_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  std::uint64_t enqueued_ = 0;
  std::uint64_t finished_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const CpuBackendOptions& options = {});
  BackendKind kind() const override { return BackendKind::cpu; }
  int device_count() const override { return state_->options.devices; }
  DeviceProperties properties(int device) const override;
  DeviceBuffer allocate(int device, std::size_t bytes) override;
  DeviceBuffer allocate_pinned(std::size_t bytes) override;
  std::unique_ptr<Stream> make_stream(int device) override;
  std::unique_ptr<Event> make_event(int device, bool timing = true) override;
  std::unique_ptr<SignalSet> make_signals(std::size_t count) override;
  // POSIX shared memory (cpu_shared_memory.cpp); the handle is the segment's name.
  bool can_share_between_processes() const override { return true; }
  SharedBuffer allocate_shared(int device, std::size_t bytes) override;
  DeviceBuffer open_shared(int device, const std::string& handle, std::size_t bytes) override;
  void seal_shared(const std::string& handle) override;
  std::unique_ptr<SignalSet> make_signals_in(void* memory, std::size_t count) override;
  std::size_t stream_queue_depth() const override { return state_->options.queue_depth; }
  bool can_access_peer(int device, int peer) const override;
  void enable_peer_access(int device, int peer) override;
  void disable_peer_access(int device, int peer) override;

  // Makes every blocked and future wait throw: how a timed-out run is torn down (as ncclCommAbort).
  void abort() override;

  // Host kernels enqueued on a CpuStream (cpu_model_ops.cpp).
  std::unique_ptr<ModelOps> make_model_ops(Stream& compute) override;
  // Every pair shares host memory: "host memory (cpu-simulated)".
  PeerLink peer_link(int device, int peer) const override;

 protected:
  // A task on the held stream's worker waiting on a condition (cpu_stream_gate.cpp).
  std::unique_ptr<StreamGate> new_stream_gate(std::chrono::milliseconds timeout) override;

 private:
  std::shared_ptr<CpuBackendState> state_;
};

}  // namespace dpb
