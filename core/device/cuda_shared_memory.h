// The cuda backend's memory shared between the processes of one node (backend.h, allocate_shared),
// for p2p-* with a process per rank (ProcessP2pCommunicator):
// - device buffers (device >= 0): cudaMalloc, exported with cudaIpcGetMemHandle; a peer maps them
//   with cudaIpcOpenMemHandle and unmaps with cudaIpcCloseMemHandle (RAII, the DeviceBuffer's
//   deleter). A handle cannot be opened in the process that exported it: refused with a clear
//   line (the exporter uses its own buffer).
// - host memory (device == Backend::kSharedHost): POSIX shared memory, registered in every
//   process with cudaHostRegister(mapped | portable), so cuStreamWriteValue64 /
//   cuStreamWaitValue64 of any process's streams reach the same words (the signals; cuda_signals.h)
//   and the host reads them. Host memory rather than IPC device memory for the signals: every
//   device reaches it without peer access, the host can zero and read it, and it is what the
//   single-process signals already use.
// Handles are text ("ipc:<pid>:<hex of cudaIpcMemHandle_t>" / "shm:<name>") and travel through
// the World exactly as the cpu backend's names do. Only compiled with CUDA.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include "device/backend.h"

namespace dpb {

// Why this process cannot share memory between processes on cuda device `device` (unified
// addressing for CUDA IPC, host-memory registration, and the stream signals); empty when it can.
std::optional<std::string> cuda_sharing_unsupported(int device);

// `host_segment` names the POSIX segment when device is Backend::kSharedHost (unused otherwise).
Backend::SharedBuffer cuda_allocate_shared(int device, std::size_t bytes, const std::string& host_segment);
DeviceBuffer cuda_open_shared(int device, const std::string& handle, std::size_t bytes);
// shm: removes the name (mappings stay valid). ipc: nothing to remove; the memory lives until its
// exporter frees it, after every peer closed it (the communicator's last barrier).
void cuda_seal_shared(const std::string& handle);

}  // namespace dpb
