#include "device/backend.h"

#include <stdexcept>
#include <string>

#include "device/cpu_backend.h"
#include "device/error.h"
#if DPBENCH_HAVE_CUDA
#include "device/cuda_backend.h"
#endif

namespace dpb {

std::string_view backend_name(BackendKind kind) { return kind == BackendKind::cpu ? "cpu" : "cuda"; }

void Backend::check_device(int device) const {
  if (device < 0 || device >= device_count()) {
    throw std::invalid_argument("device " + std::to_string(device) + " does not exist (the " +
                                std::string(name()) + " backend has " + std::to_string(device_count()) +
                                " device" + (device_count() == 1 ? "" : "s") + ")");
  }
}

namespace {
[[noreturn]] void refuse_shared(std::string_view backend) {
  throw std::invalid_argument(std::string(backend) +
                              " backend: buffers and signals shared between processes are not available here (no "
                              "POSIX shared memory or CUDA IPC); under MPI use nccl-* or mpi, or run p2p-* with a "
                              "thread per rank in one process");
}
}  // namespace

Backend::SharedBuffer Backend::allocate_shared(int, std::size_t) { refuse_shared(name()); }
DeviceBuffer Backend::open_shared(int, const std::string&, std::size_t) { refuse_shared(name()); }
void Backend::seal_shared(const std::string&) { refuse_shared(name()); }
std::unique_ptr<SignalSet> Backend::make_signals_in(void*, std::size_t) { refuse_shared(name()); }

bool cuda_compiled_in() { return DPBENCH_HAVE_CUDA != 0; }

BackendChoice choose_backend(std::string_view requested) {
  if (requested == "cpu") return {BackendKind::cpu, "cpu: requested"};
  const int gpus = visible_cuda_devices();
  if (requested == "cuda") {
    if (!cuda_compiled_in()) {
      throw SettingError("backend", "cuda was asked for, but this dpbench was built without CUDA");
    }
    if (gpus == 0) throw SettingError("backend", "cuda was asked for, but no CUDA device is visible");
    return {BackendKind::cuda, "cuda: requested, " + std::to_string(gpus) + " device(s) visible"};
  }
  if (requested == "auto") {
    if (gpus > 0) return {BackendKind::cuda, "auto picked cuda: " + std::to_string(gpus) + " CUDA device(s) visible"};
    return {BackendKind::cpu, cuda_compiled_in() ? "auto picked cpu: no CUDA device is visible"
                                                 : "auto picked cpu: built without CUDA"};
  }
  throw SettingError("backend", "unknown backend '" + std::string(requested) + "' (expected auto, cpu or cuda)");
}

std::unique_ptr<Backend> make_backend(BackendKind kind, const CpuBackendOptions& cpu) {
  if (kind == BackendKind::cpu) return std::make_unique<CpuBackend>(cpu);
#if DPBENCH_HAVE_CUDA
  return make_cuda_backend();
#else
  throw std::invalid_argument("the cuda backend is not compiled into this dpbench");
#endif
}

}  // namespace dpb

#if !DPBENCH_HAVE_CUDA
namespace dpb {
int visible_cuda_devices() { return 0; }
}  // namespace dpb
#endif
