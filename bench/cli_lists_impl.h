// Template definitions for cli_lists.h.
#pragma once
#include <algorithm>
#include <stdexcept>

#include "device/error.h"

namespace dpb {

template <class T>
std::vector<T> parse_list(std::string_view text, std::string_view flag,
                          const std::function<T(const std::string&)>& parse) {
  std::vector<T> out;
  for (const std::string& item : split_list(text, flag)) {
    T value;
    try {
      value = parse(item);
    } catch (const SettingError& e) {  // a core parser names its setting; here the flag says it
      throw std::invalid_argument(with_flag(flag, e.message()));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(with_flag(flag, e.what()));
    }
    if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(std::move(value));
  }
  return out;
}

}  // namespace dpb
