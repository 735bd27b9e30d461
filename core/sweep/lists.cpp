#include "sweep/lists.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace dpb {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string with_flag(std::string_view flag, const std::string& message) {
  if (message.rfind(std::string(flag), 0) == 0) return message;
  return std::string(flag) + ": " + message;
}

std::vector<std::string> split_list(std::string_view text, std::string_view flag) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item = trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) {
      throw std::invalid_argument(std::string(flag) + ": '" + std::string(text) +
                                  "' has an empty item; expected a comma-separated list");
    }
    items.push_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

long long parse_int(std::string_view text, std::string_view flag, long long lo, long long hi) {
  const std::string s = trim(text);
  std::size_t pos = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &pos);
  } catch (const std::out_of_range&) {
    throw std::invalid_argument(std::string(flag) + ": '" + s + "' is out of range");
  } catch (const std::exception&) {
    pos = 0;
  }
  if (s.empty() || pos != s.size()) throw std::invalid_argument(std::string(flag) + ": '" + s + "' is not an integer");
  if (v < lo || v > hi) {
    std::string range = hi == std::numeric_limits<long long>::max() ? ">= " + std::to_string(lo)
                                                                     : std::to_string(lo) + ".." + std::to_string(hi);
    throw std::invalid_argument(std::string(flag) + ": " + s + " is out of range (expected " + range + ")");
  }
  return v;
}

double parse_double(std::string_view text, std::string_view flag, double lo, double hi) {
  const std::string s = trim(text);
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (s.empty() || pos != s.size() || !std::isfinite(v)) {
    throw std::invalid_argument(std::string(flag) + ": '" + s + "' is not a number");
  }
  if (v < lo || v > hi) {
    throw std::invalid_argument(std::string(flag) + ": " + s + " is out of range (expected " + std::to_string(lo) +
                                " .. " + std::to_string(hi) + ")");
  }
  return v;
}

std::vector<int> parse_positive_int_list(std::string_view text, std::string_view flag) {
  return parse_list<int>(text, flag, [flag](const std::string& item) {
    return static_cast<int>(parse_int(item, flag, 1, std::numeric_limits<int>::max()));
  });
}

std::vector<int> parse_index_list(std::string_view text, std::string_view flag) {
  std::vector<int> out;
  for (const std::string& item : split_list(text, flag)) {
    out.push_back(static_cast<int>(parse_int(item, flag, 0, std::numeric_limits<int>::max())));
  }
  return out;
}

}  // namespace dpb
