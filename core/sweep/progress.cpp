#include "sweep/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dpb {

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

namespace {

std::string format_eta(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(std::ostream& out, std::size_t total, bool tty)
    : out_(out), total_(total), tty_(tty), started_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { clear_line(); }

void Progress::clear_line() {
  if (line_pending_) {
    out_ << "\r\033[K" << std::flush;
    line_pending_ = false;
  }
}

void Progress::start_point(std::string_view label) {
  std::string eta;
  if (done_ > 0) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    eta = "  eta " + format_eta(elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_));
  }
  const std::string line = "[" + std::to_string(done_ + 1) + "/" + std::to_string(total_) + "] " + std::string(label) + eta;
  if (tty_) {
    out_ << "\r\033[K" << line << std::flush;
    line_pending_ = true;
  } else {
    out_ << line << "\n" << std::flush;
  }
}

void Progress::finish_point(std::string_view label, std::string_view status, std::string_view reason) {
  ++done_;
  if (status != "ok") {
    clear_line();
    out_ << "[" << done_ << "/" << total_ << "] " << label << ": " << status;
    if (!reason.empty()) out_ << ": " << reason;
    out_ << "\n" << std::flush;
  }
}

}  // namespace dpb
