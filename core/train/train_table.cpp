#include "train/train_table.h"

#include <string>

#include "sweep/text_format.h"

namespace dpb {
namespace {

// A metric's value, or "-" when it is null or missing.
std::string metric(const nlohmann::json& p, const char* name, const char* format, double scale = 1.0) {
  const auto& m = p.value("metrics", nlohmann::json::object());
  if (!m.contains(name) || !m[name].contains("value") || !m[name]["value"].is_number()) return "-";
  return format_number(format, m[name]["value"].get<double>() * scale);
}

std::string stat_median(const nlohmann::json& p, const char* name) {
  const auto& s = p.value("stats", nlohmann::json::object());
  if (!s.contains(name)) return "-";
  return format_number("%.3f", s[name].value("median", 0.0));
}

std::string pad(std::string s, std::size_t w, bool left = false) {
  if (s.size() >= w) return s;
  return left ? s + std::string(w - s.size(), ' ') : std::string(w - s.size(), ' ') + s;
}

}  // namespace

void print_train_summary(std::ostream& out, const std::vector<nlohmann::json>& points) {
  out << "# summary: step = median ms of the slowest rank; exposed = ms the step waited for all-reduce after backward;\n"
         "# overlap = share of all-reduce time hidden under backward; eff = scaling efficiency vs the 1-rank point\n";
  out << "#" << pad("model", 9) << pad("algo", 11) << pad("prec", 5) << pad("n", 3) << pad("bucket", 7)
      << pad("batch", 6) << pad("step_ms", 10) << pad("samples/s", 11) << pad("eff", 6) << pad("exposed", 9)
      << pad("overlap", 8) << pad("loss", 16) << "  status\n";
  for (const auto& p : points) {
    const auto& a = p.value("axes", nlohmann::json::object());
    std::string loss = metric(p, "loss_first", "%.3f") + "->" + metric(p, "loss_last", "%.3f");
    if (loss == "-->-") loss = "-";
    std::string status = p.value("status", "?");
    if (status != "ok" && p.contains("reason") && p["reason"].is_string()) status += ": " + p["reason"].get<std::string>();
    std::string prec = a.value("precision", "?");
    std::string bucket = a.contains("bucket_mb") ? format_number("%g", a["bucket_mb"].get<double>()) : "?";
    if (a.contains("overlap") && !a["overlap"].get<bool>()) bucket += "*";
    out << " " << pad(a.value("model", "?"), 9) << pad(a.value("algo", "?"), 11) << pad(prec, 5)
        << pad(std::to_string(a.value("ranks", 0)), 3) << pad(bucket, 7) << pad(std::to_string(a.value("batch", 0)), 6)
        << pad(stat_median(p, "step"), 10) << pad(metric(p, "samples_per_s", "%.1f"), 11)
        << pad(metric(p, "scaling_efficiency", "%.2f"), 6) << pad(stat_median(p, "exposed_comm"), 9)
        << pad(metric(p, "overlap_fraction", "%.0f%%", 100.0), 8) << pad(loss, 16) << "  " << status << "\n";
  }
  out << "# bucket* = no overlap: buckets all-reduced after the whole backward\n";
}

}  // namespace dpb
