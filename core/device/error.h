// Errors as exceptions with context: the failing call, where it was made, and the library's text.
#pragma once
#include <functional>
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

// A wrong setting of a run, named by its config name (e.g. "max_bytes", "stopping.min_iters",
// "local_batch"), never by a command-line flag: flag names live in bench/ only, and bench maps the
// setting to the flag the user typed (bench/cli_sweep_flags.h, flag_for_setting). The message may
// name other settings as "{setting}" (bench puts their flags there). what() is "<setting>: <message>"
// with the braces dropped, so an error that reaches a results file still names what was wrong.
class SettingError : public std::invalid_argument {
 public:
  SettingError(std::string setting, std::string message);
  const std::string& setting() const { return setting_; }
  const std::string& message() const { return message_; }  // "{setting}" references kept

 private:
  std::string setting_;
  std::string message_;
};

// `message` with each "{setting}" reference (a setting name: lower-case letters, digits, '_' and
// '.') replaced by name(setting); other braces (quoted JSON, say) are left as they are.
std::string replace_setting_refs(const std::string& message,
                                 const std::function<std::string(const std::string&)>& name);

}  // namespace dpb
