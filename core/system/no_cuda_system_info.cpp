// Run-time versions in a build without CUDA: nothing to read (cuda_system_info.cpp in CUDA builds;
// core/CMakeLists.txt compiles one of the two).
#include "system/system_info.h"

namespace dpb {

RuntimeVersions read_runtime_versions() { return {}; }

}  // namespace dpb
