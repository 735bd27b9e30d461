// Errors as exceptions with context: the failing call, where it was made, and the library's text.
#pragma once
#include <stdexcept>
#include <string>

namespace dpb {

// A failure reported by a device runtime or library (CUDA, cuBLAS, NCCL) or by the cpu backend.
class DeviceError : public std::runtime_error {
 public:
  DeviceError(const std::string& call, const char* file, int line, const std::string& text);
  const std::string& call() const { return call_; }

 private:
  std::string call_;
};

// A stream or collective that did not finish in time; the sweep records the point as timed out.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dpb
