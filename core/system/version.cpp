#include "system/version.h"

#include <sstream>

#include "dpbench/version_info.h"

namespace dpb {

BuildInfo build_info() {
  BuildInfo b;
  b.version = DPBENCH_VERSION_STRING;
  b.git_revision = DPBENCH_GIT_REVISION;
  b.backends = {"cpu"};
#if DPBENCH_HAVE_CUDA
  b.backends.push_back("cuda");
  b.cuda_build_version = DPBENCH_CUDA_BUILD_VERSION;
  b.nccl_build_version = DPBENCH_NCCL_BUILD_VERSION;
#endif
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
