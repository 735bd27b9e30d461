#include "collectives/nccl_communicator.h"

#include <nccl.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>

#include "collectives/algorithm_rules.h"
#include "collectives/communicator_env.h"
#include "collectives/nccl_check.h"
#include "device/cuda_handles.h"

namespace dpb {

namespace detail {

namespace {
std::string nccl_error_text(ncclResult_t status) {
  std::string text = ncclGetErrorString(status);
  const char* last = ncclGetLastError(nullptr);
  if (last && *last) text += std::string(" (") + last + ")";
  return text;
}
}  // namespace

void throw_nccl_error(ncclResult_t status, const char* call, const char* file, int line) {
  throw DeviceError(call, file, line, nccl_error_text(status));
}

bool warn_nccl_error(ncclResult_t status, const char* call, const char* file, int line) noexcept {
  if (status == ncclSuccess) return true;
  std::fprintf(stderr, "dpbench: warning: %s failed at %s:%d: %s\n", call, file, line, nccl_error_text(status).c_str());
  return false;
}

}  // namespace detail

namespace {

ncclDataType_t nccl_type(DType type) {
  switch (type) {
    case DType::f32: return ncclFloat32;
    case DType::f16: return ncclFloat16;
    case DType::bf16: return ncclBfloat16;
  }
  throw std::invalid_argument("nccl: unsupported dtype");
}

// Owns one ncclComm_t per rank (RAII): finalized and destroyed together, or aborted.
class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(AlgorithmName algo, std::vector<int> devices, bool multi_rank_gpu)
      : algo_(std::move(algo)),
        devices_(std::move(devices)),
        comms_(devices_.size(), nullptr),
        shared_device_(multi_rank_gpu) {
    // NCCL_ALGO / NCCL_MULTI_RANK_GPU_ENABLE are set for this init only, without racing other
    // threads' getenv, one init of the process at a time (communicator_env.h).
    run_nccl_init(algo_.algorithm, multi_rank_gpu, [&] {
      DPB_NCCL_CHECK(ncclCommInitAll(comms_.data(), static_cast<int>(devices_.size()), devices_.data()));
    });
  }

  ~NcclCommunicator() override {
    if (comms_.empty() || !comms_.front() || aborted_.load()) return;  // ncclCommAbort freed them
    // Several communicators finalized from one thread must be grouped (NCCL user guide).
    DPB_NCCL_WARN(ncclGroupStart());
    for (ncclComm_t c : comms_) DPB_NCCL_WARN(ncclCommFinalize(c));
    DPB_NCCL_WARN(ncclGroupEnd());
    for (ncclComm_t c : comms_) DPB_NCCL_WARN(ncclCommDestroy(c));
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  AlgorithmName algorithm() const override { return algo_; }
  int ranks() const override { return static_cast<int>(devices_.size()); }
  const std::vector<int>& devices() const override { return devices_; }

  void allreduce(DType type, std::span<const void* const> send, std::span<void* const> recv, std::size_t count,
                 std::span<Stream* const> streams) override {
    const std::size_t n = devices_.size();
    if (send.size() != n || recv.size() != n || streams.size() != n) {
      throw std::invalid_argument(algo_.text() + " allreduce: expected " + std::to_string(n) +
                                  " send buffers, recv buffers and streams");
    }
    if (aborted_.load()) throw std::invalid_argument(algo_.text() + " allreduce: the communicator was aborted");
    for (std::size_t r = 0; r < n; ++r) {
      if (!streams[r] || streams[r]->device() != devices_[r]) {
        throw std::invalid_argument(algo_.text() + " allreduce: rank " + std::to_string(r) +
                                    " needs a stream on device " + std::to_string(devices_[r]));
      }
    }
    if (count == 0) return;
    DPB_NCCL_CHECK(ncclGroupStart());
    try {
      for (std::size_t r = 0; r < n; ++r) {
        DPB_NCCL_CHECK(ncclAllReduce(send[r], recv[r], count, nccl_type(type), ncclSum, comms_[r],
                                     cuda_stream_handle(*streams[r])));
      }
    } catch (...) {
      DPB_NCCL_WARN(ncclGroupEnd());  // leave no group open behind the error
      throw;
    }
    DPB_NCCL_CHECK(ncclGroupEnd());
  }

  // A thread per rank, each on its own communicator, needs no group (nccl-tests -t does the same).
  void allreduce_rank(int rank, DType type, const void* send, void* recv, std::size_t count, Stream& stream) override {
    if (rank < 0 || rank >= ranks()) throw std::invalid_argument(algo_.text() + " allreduce: no rank " + std::to_string(rank));
    const auto r = static_cast<std::size_t>(rank);
    ncclComm_t comm = comms_[r];
    if (aborted_.load()) throw std::invalid_argument(algo_.text() + " allreduce: the communicator was aborted");
    if (stream.device() != devices_[r]) {
      throw std::invalid_argument(algo_.text() + " allreduce: rank " + std::to_string(rank) +
                                  " needs a stream on device " + std::to_string(devices_[r]));
    }
    if (count == 0) return;
    // NCCL user guide, thread safety: operations on independent communicators of ONE device must
    // not be issued in parallel from several threads. Ranks sharing a GPU take turns; distinct
    // GPUs run freely.
    std::unique_lock turn(shared_device_turn_, std::defer_lock);
    if (shared_device_) turn.lock();
    DPB_NCCL_CHECK(ncclAllReduce(send, recv, count, nccl_type(type), ncclSum, comm, cuda_stream_handle(stream)));
  }

  // May run on a watchdog thread while ranks' threads are inside ncclAllReduce (what ncclCommAbort
  // is for): the handles stay as they are (the destructor skips them), and later calls refuse.
  void abort() override {
    if (comms_.empty() || !comms_.front() || aborted_.exchange(true)) return;
    for (ncclComm_t c : comms_) DPB_NCCL_WARN(ncclCommAbort(c));
  }

 private:
  AlgorithmName algo_;
  std::vector<int> devices_;
  std::vector<ncclComm_t> comms_;
  bool shared_device_;  // several ranks on one GPU (NCCL >= 2.30): allreduce_rank takes turns
  std::mutex shared_device_turn_;
  std::atomic<bool> aborted_{false};
};

}  // namespace

int nccl_runtime_version() {
  int version = 0;
  DPB_NCCL_CHECK(ncclGetVersion(&version));
  return version;
}

std::unique_ptr<Communicator> make_nccl_communicator(Backend& backend, const AlgorithmName& algo,
                                                     const std::vector<int>& devices,
                                                     const CommunicatorOptions& options) {
  check_backend_supports(backend.kind(), algo);
  if (algo.transport != Transport::nccl || !(algo.algorithm == "ring" || algo.algorithm == "tree" || algo.algorithm == "auto")) {
    throw std::invalid_argument(algo.text() + ": not an NCCL algorithm (expected nccl-ring, nccl-tree or nccl-auto)");
  }
  if (devices.empty()) throw std::invalid_argument(algo.text() + ": needs at least one rank");
  for (int d : devices) backend.check_device(d);
  const int version = nccl_runtime_version();
  if (auto why = nccl_device_refusal(algo, devices, options.nccl_multi_rank_gpu, version)) {
    throw std::invalid_argument(*why);
  }
  return std::make_unique<NcclCommunicator>(algo, devices,
                                            repeated_device(devices).has_value() && options.nccl_multi_rank_gpu);
}

}  // namespace dpb
