// An error in a run's settings, found before anything is measured, that names the setting it is
// about (e.g. "max_bytes") rather than a command-line flag: bench/ maps the setting to the flag the
// user typed (flag names live in bench/ only).
#pragma once
#include <stdexcept>
#include <string>
#include <utility>

namespace dpb {

class SettingError : public std::invalid_argument {
 public:
  SettingError(std::string setting, const std::string& message)
      : std::invalid_argument(message), setting_(std::move(setting)) {}
  const std::string& setting() const { return setting_; }

 private:
  std::string setting_;
};

}  // namespace dpb
