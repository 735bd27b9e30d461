// printf-style formatting of one number for the fixed-width tables allreduce and train print.
#pragma once
#include <cstdio>
#include <string>

namespace dpb {

inline std::string format_number(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace dpb
