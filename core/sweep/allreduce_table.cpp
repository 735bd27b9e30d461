#include "sweep/allreduce_table.h"

#include "sweep/sizes.h"
#include "sweep/text_format.h"

namespace dpb {

namespace {

std::string devices_text(const std::vector<int>& devices) {
  std::string s;
  for (std::size_t i = 0; i < devices.size(); ++i) s += (i ? "," : "") + std::to_string(devices[i]);
  return s;
}

}  // namespace

void print_allreduce_header(std::ostream& out, const std::vector<std::string>& lines) {
  for (const auto& l : lines) out << "# " << l << "\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "#%12s %12s %5s %11s %5s %5s %11s %10s %11s %11s %8s %9s %6s\n", "size", "count",
                "type", "algo", "ranks", "place", "time(us)", "host(us)", "algbw(GB/s)", "busbw(GB/s)", "#wrong", "stop",
                "iters");
  out << buf << std::flush;
}

void print_allreduce_group(std::ostream& out, const std::vector<int>& devices) {
  out << "#  ranks " << devices.size() << " on devices " << devices_text(devices) << "\n" << std::flush;
}

void print_allreduce_row(std::ostream& out, const PointRecord& rec) {
  const auto& a = rec.axes;
  const std::size_t bytes = a.value("bytes", std::size_t{0});
  std::string time = "-", host = "-", algbw = "-", busbw = "-", wrong = "-", stop = "-", iters = "-";
  if (auto it = rec.stats.find("time"); it != rec.stats.end() && it->second.count > 0) {
    time = format_number("%.2f", it->second.median);
    iters = std::to_string(it->second.count);
  }
  if (auto it = rec.stats.find("host_time"); it != rec.stats.end() && it->second.count > 0) {
    host = format_number("%.2f", it->second.median);
  }
  if (auto it = rec.metrics.find("algbw"); it != rec.metrics.end() && it->second.value) algbw = format_number("%.3f", *it->second.value);
  if (auto it = rec.metrics.find("busbw"); it != rec.metrics.end() && it->second.value) busbw = format_number("%.3f", *it->second.value);
  if (rec.check) wrong = std::to_string(rec.check->value("wrong_elements", std::size_t{0}));
  if (rec.stopping) stop = rec.stopping->value("rule", "-");
  char buf[512];
  std::snprintf(buf, sizeof buf, " %12zu %12zu %5s %11s %5d %5s %11s %10s %11s %11s %8s %9s %6s", bytes,
                a.value("count", std::size_t{0}), a.value("dtype", "?").c_str(), a.value("algo", "?").c_str(),
                a.value("ranks", 0), a.value("in_place", false) ? "in" : "out", time.c_str(), host.c_str(),
                algbw.c_str(), busbw.c_str(), wrong.c_str(), stop.c_str(), iters.c_str());
  out << buf;
  // The host could not enqueue a call faster than the device ran it: the time is the host's rate.
  if (rec.more.contains("extra") && rec.more["extra"].value("host_bound", false)) out << "  host-bound";
  if (rec.status != PointStatus::ok) out << "  " << point_status_name(rec.status) << ": " << rec.reason.value_or("");
  out << "\n";
  // Fewer iterations than asked for are never silent (measure/stopping.h).
  if (rec.stopping && rec.stopping->contains("shortfall")) {
    out << "#  note: " << (*rec.stopping)["shortfall"].get<std::string>() << "\n";
  }
  out << std::flush;
}

}  // namespace dpb
