#include "cli_lists.h"

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

namespace {

// What is wrong with `text` as an integer in [lo, hi] ("" when nothing), and its value.
std::string int_problem(std::string_view text, long long lo, long long hi, long long& v) {
  const std::string s = trim(text);
  std::size_t pos = 0;
  try {
    v = std::stoll(s, &pos);
  } catch (const std::out_of_range&) {
    return "'" + s + "' is out of range";
  } catch (const std::exception&) {
    pos = 0;
  }
  if (s.empty() || pos != s.size()) return "'" + s + "' is not an integer";
  if (v < lo || v > hi) {
    std::string range = hi == std::numeric_limits<long long>::max() ? ">= " + std::to_string(lo)
                                                                     : std::to_string(lo) + ".." + std::to_string(hi);
    return s + " is out of range (expected " + range + ")";
  }
  return "";
}

std::string number_problem(std::string_view text, double lo, double hi, bool above_lo, double& v) {
  const std::string s = trim(text);
  std::size_t pos = 0;
  try {
    v = std::stod(s, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (s.empty() || pos != s.size() || !std::isfinite(v)) return "'" + s + "' is not a number";
  if (v < lo || v > hi || (above_lo && v == lo)) {
    const std::string range = above_lo ? "more than " + CLI::detail::to_string(lo) + ", at most " + CLI::detail::to_string(hi)
                                       : CLI::detail::to_string(lo) + " .. " + CLI::detail::to_string(hi);
    return s + " is out of range (expected " + range + ")";
  }
  return "";
}

}  // namespace

long long parse_int(std::string_view text, std::string_view flag, long long lo, long long hi) {
  long long v = 0;
  if (std::string why = int_problem(text, lo, hi, v); !why.empty()) throw std::invalid_argument(with_flag(flag, why));
  return v;
}

double parse_double(std::string_view text, std::string_view flag, double lo, double hi) {
  double v = 0;
  if (std::string why = number_problem(text, lo, hi, false, v); !why.empty()) {
    throw std::invalid_argument(with_flag(flag, why));
  }
  return v;
}

CLI::Validator int_in(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) {
        long long v = 0;
        return int_problem(text, lo, hi, v);
      },
      "INT", "integer in range");
}

CLI::Validator number_in(double lo, double hi, bool above_lo) {
  return CLI::Validator(
      [lo, hi, above_lo](std::string& text) {
        double v = 0;
        return number_problem(text, lo, hi, above_lo, v);
      },
      "NUMBER", "number in range");
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
