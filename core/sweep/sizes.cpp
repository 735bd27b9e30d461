#include "sweep/sizes.h"

#include <cctype>
#include <limits>
#include <stdexcept>

#include "device/error.h"

namespace dpb {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

[[noreturn]] void bad_size(std::string_view text, std::string_view flag, const std::string& why) {
  throw std::invalid_argument(std::string(flag) + ": '" + std::string(text) + "' " + why);
}

}  // namespace

std::size_t parse_size(std::string_view text, std::string_view flag) {
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) bad_size(text, flag, "is empty; expected a size like 8, 64K, 256M or 1G");
  if (s.front() == '-') bad_size(text, flag, "is negative; sizes must be positive");
  if (s.front() == '+') s.remove_prefix(1);
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0) bad_size(text, flag, "is not a size; expected a number with an optional K, M or G suffix");
  if (digits < s.size() && s[digits] == '.') bad_size(text, flag, "is not a whole number of bytes");
  const std::string suffix = lower(s.substr(digits));
  std::size_t shift = 0;
  if (suffix.empty() || suffix == "b") {
    shift = 0;
  } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
    shift = 10;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
    shift = 20;
  } else if (suffix == "g" || suffix == "gb" || suffix == "gib") {
    shift = 30;
  } else {
    bad_size(text, flag, "has an unknown suffix '" + std::string(s.substr(digits)) + "' (use K, M or G: 2^10, 2^20, 2^30)");
  }
  std::size_t value = 0;
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  for (std::size_t i = 0; i < digits; ++i) {
    const auto d = static_cast<std::size_t>(s[i] - '0');
    if (value > (kMax - d) / 10) bad_size(text, flag, "is too large");
    value = value * 10 + d;
  }
  if (value > (kMax >> shift)) bad_size(text, flag, "is too large");
  value <<= shift;
  if (value == 0) bad_size(text, flag, "is not a positive size");
  return value;
}

std::string format_size(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 30) && bytes % (std::size_t{1} << 30) == 0) return std::to_string(bytes >> 30) + "G";
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes >= (std::size_t{1} << 10) && bytes % (std::size_t{1} << 10) == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

std::size_t parse_step_factor(std::string_view text, std::string_view flag) {
  std::string s(text);
  std::size_t pos = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &pos);
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string(flag) + ": '" + s + "' is not an integer step factor (>= 2)");
  }
  if (pos != s.size()) throw std::invalid_argument(std::string(flag) + ": '" + s + "' is not an integer step factor (>= 2)");
  if (v < 2) throw std::invalid_argument(std::string(flag) + ": " + s + " must be at least 2 (sizes grow geometrically)");
  return static_cast<std::size_t>(v);
}

void SizeRange::validate() const {
  if (min_bytes == 0) throw SettingError("min_bytes", "must be positive");
  if (max_bytes < min_bytes) {
    throw SettingError("max_bytes", format_size(max_bytes) + " is below {min_bytes} " + format_size(min_bytes));
  }
  if (factor < 2) throw SettingError("factor", "must be at least 2, got " + std::to_string(factor));
}

std::vector<std::size_t> SizeRange::sizes() const {
  validate();
  std::vector<std::size_t> out;
  for (std::size_t s = min_bytes; s <= max_bytes; ) {
    out.push_back(s);
    if (s > max_bytes / factor) break;  // the next step would pass max (or overflow)
    s *= factor;
  }
  return out;
}

}  // namespace dpb
