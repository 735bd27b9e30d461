#include "device/error.h"

namespace dpb {

DeviceError::DeviceError(const std::string& call, const char* file, int line, const std::string& text)
    : std::runtime_error(call + " failed at " + file + ":" + std::to_string(line) + ": " + text), call_(call) {}

}  // namespace dpb
