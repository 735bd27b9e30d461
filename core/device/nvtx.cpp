#include "device/nvtx.h"

#if DPBENCH_HAVE_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace dpb {

#if DPBENCH_HAVE_CUDA
namespace {

// The domain handle is created once per process; NVTX itself treats domains as process-lifetime
// registrations, so this is a cached identifier, not run state.
nvtxDomainHandle_t dpbench_domain() {
  static const nvtxDomainHandle_t domain = nvtxDomainCreateA("dpbench");
  return domain;
}

nvtxEventAttributes_t attributes(const char* message) {
  nvtxEventAttributes_t attr{};
  attr.version = NVTX_VERSION;
  attr.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  attr.messageType = NVTX_MESSAGE_TYPE_ASCII;
  attr.message.ascii = message;
  return attr;
}

}  // namespace

NvtxRange::NvtxRange(const char* name) {
  const nvtxEventAttributes_t attr = attributes(name);
  nvtxDomainRangePushEx(dpbench_domain(), &attr);
}

NvtxRange::~NvtxRange() { nvtxDomainRangePop(dpbench_domain()); }

void nvtx_mark(const char* message) {
  const nvtxEventAttributes_t attr = attributes(message);
  nvtxDomainMarkEx(dpbench_domain(), &attr);
}
#else
NvtxRange::NvtxRange(const char*) {}
NvtxRange::~NvtxRange() = default;
void nvtx_mark(const char*) {}
#endif

}  // namespace dpb
