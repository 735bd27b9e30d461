// Progress reporting for a sweep, on stderr: on a terminal one line rewritten in place
// ("[12/96] p2p-ring fp32 n=4 64K oop  eta 0:41"); otherwise one plain line per point, so logs
// stay readable. Failures are always printed on their own line.
#pragma once
#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace dpb {

class Progress {
 public:
  // `total` points planned (after --resume skips). `tty`: rewrite one line (pass isatty(2)).
  Progress(std::ostream& out, std::size_t total, bool tty);
  ~Progress();  // ends a pending in-place line with a newline
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void start_point(std::string_view label);
  void finish_point(std::string_view label, std::string_view status, std::string_view reason = {});

  // Clears the in-place line so other output (a table row on stdout) is not interleaved with it.
  void clear_line();

 private:
  std::ostream& out_;
  std::size_t total_, done_ = 0;
  bool tty_;
  bool line_pending_ = false;
  std::chrono::steady_clock::time_point started_;
};

// True when stderr is a terminal.
bool stderr_is_tty();

}  // namespace dpb
