#include "device/error.h"

#include <algorithm>
#include <utility>

namespace dpb {

DeviceError::DeviceError(const std::string& call, const char* file, int line, const std::string& text)
    : std::runtime_error(call + " failed at " + file + ":" + std::to_string(line) + ": " + text), call_(call) {}

SettingError::SettingError(std::string setting, std::string message)
    : std::invalid_argument(setting + ": " + replace_setting_refs(message, [](const std::string& s) { return s; })),
      setting_(std::move(setting)),
      message_(std::move(message)) {}

std::string replace_setting_refs(const std::string& message,
                                 const std::function<std::string(const std::string&)>& name) {
  auto is_name_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'; };
  std::string out;
  std::size_t at = 0;
  for (std::size_t open; (open = message.find('{', at)) != std::string::npos;) {
    const std::size_t close = message.find('}', open);
    if (close == std::string::npos) break;
    const std::string ref = message.substr(open + 1, close - open - 1);
    const bool is_ref = !ref.empty() && std::all_of(ref.begin(), ref.end(), is_name_char);
    out += message.substr(at, open - at) + (is_ref ? name(ref) : message.substr(open, close - open + 1));
    at = close + 1;
  }
  return out + message.substr(at);
}

}  // namespace dpb
