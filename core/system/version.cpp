#include "system/version.h"

#include <sstream>

#include "device/backend.h"
#include "dpbench/version_info.h"

namespace dpb {

BuildInfo build_info() {
  BuildInfo b;
  b.version = DPBENCH_VERSION_STRING;
  b.git_revision = DPBENCH_GIT_REVISION;
  for (BackendKind kind : compiled_backends()) b.backends.emplace_back(backend_name(kind));
  if (const std::string cuda = DPBENCH_CUDA_BUILD_VERSION; !cuda.empty()) b.cuda_build_version = cuda;
  if (const std::string nccl = DPBENCH_NCCL_BUILD_VERSION; !nccl.empty()) b.nccl_build_version = nccl;
  return b;
}

std::string version_text() {
  const BuildInfo b = build_info();
  std::ostringstream os;
  os << "dpbench " << b.version << " (git " << b.git_revision << ")\n";
  os << "backends:";
  for (const auto& name : b.backends) os << ' ' << name;
  os << "\nbuilt against: CUDA " << b.cuda_build_version.value_or("none") << ", NCCL "
     << b.nccl_build_version.value_or("none") << "\n";
  return os.str();
}

}  // namespace dpb
