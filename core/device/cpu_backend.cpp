#include "device/cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "device/cpu_elementwise.h"
#include "device/error.h"
#include "system/host_memory.h"

namespace dpb {

// ---- CpuEvent --------------------------------------------------------------------------------

std::uint64_t CpuEvent::enqueue_record() {
  std::lock_guard lock(shared_->mutex);
  return ++shared_->recorded;
}

void CpuEvent::Shared::complete(std::uint64_t generation) {
  std::lock_guard lock(mutex);
  if (generation > completed) {
    completed = generation;
    when = std::chrono::steady_clock::now();
  }
  cv.notify_all();
}

void CpuEvent::Shared::wait_for(std::uint64_t generation) const {
  std::unique_lock lock(mutex);
  // Abort is rare; polling it every few ms keeps the wake-up path to one condition variable.
  while (completed < generation) {
    if (backend->aborted.load()) {
      throw DeviceError("cpu event wait", __FILE__, __LINE__, "backend aborted while waiting");
    }
    cv.wait_for(lock, std::chrono::milliseconds(5));
  }
}

std::uint64_t CpuEvent::recorded_generation() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->recorded;
}

void CpuEvent::synchronize() { shared_->wait_for(recorded_generation()); }

bool CpuEvent::query() {
  std::lock_guard lock(shared_->mutex);
  return shared_->completed >= shared_->recorded;
}

double CpuEvent::elapsed_ms_since(const Event& start) const {
  const auto* s = dynamic_cast<const CpuEvent*>(&start);
  if (!s) throw std::invalid_argument("elapsed_ms_since: events from different backends");
  if (s->device_ != device_) {
    // As on CUDA, which cannot compare two devices' clocks: the cpu backend refuses it too.
    throw std::invalid_argument("elapsed_ms_since: events of devices " + std::to_string(s->device_) + " and " +
                                std::to_string(device_) + " (both must be on one device)");
  }
  const Shared& a = *shared_;
  const Shared& b = *s->shared_;
  std::unique_lock lock_a(a.mutex, std::defer_lock);
  std::unique_lock lock_b(b.mutex, std::defer_lock);
  if (&a == &b) {
    lock_a.lock();
  } else {
    std::lock(lock_a, lock_b);
  }
  if (a.completed == 0 || b.completed == 0 || a.completed < a.recorded || b.completed < b.recorded) {
    throw DeviceError("cpu elapsed time", __FILE__, __LINE__, "event has not completed");
  }
  return std::chrono::duration<double, std::milli>(a.when - b.when).count();
}

// ---- CpuSignalSet ----------------------------------------------------------------------------

void CpuSignalSet::Shared::write(std::size_t index, std::uint64_t value) {
  {
    // Under the mutex, so a waiter between its check and its sleep cannot miss the wake-up.
    std::lock_guard lock(mutex);
    std::atomic<std::uint64_t>& slot = values[index];
    if (value > slot.load(std::memory_order_relaxed)) slot.store(value, std::memory_order_release);
  }
  cv.notify_all();
}

void CpuSignalSet::Shared::wait_for(std::size_t index, std::uint64_t value) const {
  // The abort is checked around every look at the slot: an aborted collective may also have had
  // its signals released (release_all, for cuda's sake), and on the cpu backend its waits must
  // fail, not run on into buffers that are about to be freed.
  const auto check_abort = [&] {
    if (backend->aborted.load()) {
      throw DeviceError("cpu signal wait", __FILE__, __LINE__, "backend aborted while waiting");
    }
  };
  const std::atomic<std::uint64_t>& slot = values[index];
  check_abort();
  if (process_shared) {
    // Poll: yield first (a peer process's write is usually near), then sleep with a growing
    // backoff up to 100 us, so waiting ranks leave the cores to the ranks that work.
    std::chrono::microseconds nap{1};
    for (int spins = 0; slot.load(std::memory_order_acquire) < value; ++spins) {
      check_abort();
      if (spins < 64) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(nap);
        nap = std::min(nap * 2, std::chrono::microseconds(100));
      }
    }
  } else if (slot.load(std::memory_order_acquire) < value) {
    std::unique_lock lock(mutex);
    while (slot.load(std::memory_order_acquire) < value) {
      check_abort();
      cv.wait_for(lock, std::chrono::milliseconds(5));
    }
  }
  check_abort();
}

// ---- CpuStream -------------------------------------------------------------------------------

CpuStream::CpuStream(int device, std::shared_ptr<CpuBackendState> state)
    : device_(device), state_(std::move(state)), worker_([this] { run(); }) {}

CpuStream::~CpuStream() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void CpuStream::push(std::function<void()> task, bool control) {
  {
    std::unique_lock lock(mutex_);
    const std::size_t depth = state_->options.queue_depth;
    while (depth > 0 && enqueued_ - finished_ >= depth) {
      if (state_->aborted.load()) {
        throw DeviceError("cpu stream enqueue", __FILE__, __LINE__, "backend aborted while the queue was full");
      }
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    }
    queue_.push_back(Task{std::move(task), control});
    ++enqueued_;
  }
  cv_.notify_all();
}

void CpuStream::enqueue(std::function<void()> task) { push(std::move(task), false); }
void CpuStream::enqueue_control(std::function<void()> task) { push(std::move(task), true); }

void CpuStream::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with the queue drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    bool poisoned;
    {
      std::lock_guard lock(mutex_);
      poisoned = error_ != nullptr;
    }
    if (!poisoned || task.control) {
      try {
        task.fn();
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    {
      std::lock_guard lock(mutex_);
      ++finished_;
    }
    cv_.notify_all();
  }
}

void CpuStream::copy(void* dst, const void* src, std::size_t bytes) {
  enqueue([=] {
    if (bytes) std::memmove(dst, src, bytes);
  });
}

void CpuStream::copy_peer(void* dst, int, const void* src, int, std::size_t bytes) { copy(dst, src, bytes); }
void CpuStream::copy_to_host(void* host_dst, const void* src, std::size_t bytes) { copy(host_dst, src, bytes); }
void CpuStream::copy_from_host(void* dst, const void* host_src, std::size_t bytes) { copy(dst, host_src, bytes); }

void CpuStream::fill(DType type, void* dst, std::size_t count, double value) {
  enqueue([=] { cpu::fill(type, dst, count, value); });
}

void CpuStream::reduce_add(DType type, void* dst, const void* src, std::size_t count) {
  enqueue([=] { cpu::reduce_add(type, dst, src, count); });
}

void CpuStream::scale(DType type, void* data, std::size_t count, float factor) {
  enqueue([=] { cpu::scale(type, data, count, factor); });
}

void CpuStream::cast(DType dst_type, void* dst, DType src_type, const void* src, std::size_t count) {
  enqueue([=] { cpu::cast(dst_type, dst, src_type, src, count); });
}

void CpuStream::record(Event& event) {
  auto* e = dynamic_cast<CpuEvent*>(&event);
  if (!e) throw std::invalid_argument("CpuStream::record: not a cpu event");
  const std::uint64_t generation = e->enqueue_record();
  enqueue_control([shared = e->shared(), generation] { shared->complete(generation); });
}

void CpuStream::wait(const Event& event) {
  const auto* e = dynamic_cast<const CpuEvent*>(&event);
  if (!e) throw std::invalid_argument("CpuStream::wait: not a cpu event");
  const std::uint64_t generation = e->recorded_generation();
  if (generation == 0) return;  // never recorded: complete, as in CUDA
  enqueue_control([shared = e->shared(), generation] { shared->wait_for(generation); });
}

void CpuStream::write_signal(SignalSet& signals, std::size_t index, std::uint64_t value) {
  auto* set = dynamic_cast<CpuSignalSet*>(&signals);
  if (!set) throw std::invalid_argument("CpuStream::write_signal: not a cpu signal set");
  if (index >= set->size()) throw std::out_of_range("CpuStream::write_signal: slot out of range");
  // A control task: a poisoned stream still writes its signals, so peers never hang on it.
  enqueue_control([shared = set->shared(), index, value] { shared->write(index, value); });
}

void CpuStream::wait_signal(const SignalSet& signals, std::size_t index, std::uint64_t value) {
  const auto* set = dynamic_cast<const CpuSignalSet*>(&signals);
  if (!set) throw std::invalid_argument("CpuStream::wait_signal: not a cpu signal set");
  if (index >= set->size()) throw std::out_of_range("CpuStream::wait_signal: slot out of range");
  enqueue_control([shared = set->shared(), index, value] { shared->wait_for(index, value); });
}

void CpuStream::synchronize() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = enqueued_;
  while (finished_ < target) {
    if (state_->aborted.load()) {
      throw DeviceError("cpu stream synchronize", __FILE__, __LINE__, "backend aborted");
    }
    cv_.wait_for(lock, std::chrono::milliseconds(5));
  }
  if (error_) std::rethrow_exception(error_);
}

bool CpuStream::query() {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
  return finished_ == enqueued_;
}

// ---- CpuBackend ------------------------------------------------------------------------------

CpuBackend::CpuBackend(const CpuBackendOptions& options) : state_(std::make_shared<CpuBackendState>()) {
  if (options.devices < 1) throw std::invalid_argument("cpu backend needs at least one device");
  if (options.queue_depth < 2) throw std::invalid_argument("cpu backend: the stream queue depth must be at least 2");
  state_->options = options;
  if (state_->options.memory_per_device == 0) {
    state_->options.memory_per_device = default_cpu_device_memory(options.devices);
  }
  state_->allocated.assign(static_cast<std::size_t>(options.devices), 0);
}

DeviceProperties CpuBackend::properties(int device) const {
  check_device(device);
  DeviceProperties p;
  p.index = device;
  p.name = "cpu-simulated device " + std::to_string(device) + " (host memory)";
  p.simulated = true;
  p.memory_bytes = state_->options.memory_per_device;
  return p;
}

DeviceBuffer CpuBackend::allocate(int device, std::size_t bytes) {
  check_device(device);
  {
    std::lock_guard lock(state_->memory_mutex);
    auto& used = state_->allocated[static_cast<std::size_t>(device)];
    if (bytes > state_->options.memory_per_device - used) {
      throw DeviceError("cpu allocate", __FILE__, __LINE__,
                        "out of memory on cpu device " + std::to_string(device) + ": " + std::to_string(bytes) +
                            " bytes requested, " + std::to_string(state_->options.memory_per_device - used) +
                            " free");
    }
    used += bytes;
  }
  constexpr std::size_t kAlign = 64;
  const std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = rounded ? std::aligned_alloc(kAlign, rounded) : nullptr;
  if (rounded && !p) {
    std::lock_guard lock(state_->memory_mutex);
    state_->allocated[static_cast<std::size_t>(device)] -= bytes;
    throw std::bad_alloc();
  }
  auto state = state_;
  return DeviceBuffer(p, bytes, device, [state, device, bytes](void* ptr) {
    std::free(ptr);
    std::lock_guard lock(state->memory_mutex);
    state->allocated[static_cast<std::size_t>(device)] -= bytes;
  });
}

DeviceBuffer CpuBackend::allocate_pinned(std::size_t bytes) {
  constexpr std::size_t kAlign = 64;
  const std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = rounded ? std::aligned_alloc(kAlign, rounded) : nullptr;
  if (rounded && !p) throw std::bad_alloc();
  return DeviceBuffer(p, bytes, -1, [](void* ptr) { std::free(ptr); });
}

std::unique_ptr<Stream> CpuBackend::make_stream(int device) {
  check_device(device);
  return std::make_unique<CpuStream>(device, state_);
}

std::unique_ptr<Event> CpuBackend::make_event(int device, bool) {
  check_device(device);
  return std::make_unique<CpuEvent>(device, state_);
}

std::unique_ptr<SignalSet> CpuBackend::make_signals(std::size_t count) {
  return std::make_unique<CpuSignalSet>(state_, count);
}

bool CpuBackend::can_access_peer(int device, int peer) const {
  check_device(device);
  check_device(peer);
  return true;  // all simulated devices share host memory
}

void CpuBackend::enable_peer_access(int device, int peer) { (void)can_access_peer(device, peer); }
void CpuBackend::disable_peer_access(int device, int peer) { (void)can_access_peer(device, peer); }

PeerLink CpuBackend::peer_link(int device, int peer) const {
  PeerLink link;
  link.access_supported = can_access_peer(device, peer);
  link.link = "host memory (cpu-simulated)";
  return link;
}

void CpuBackend::abort() { state_->aborted.store(true); }

}  // namespace dpb
