// A device-by-device result matrix, as nvbandwidth and p2pBandwidthLatencyTest print them: rows are
// sources, columns destinations, entries empty (null) where not measured (the diagonal), and the
// sum/min/max/average over the measured entries. Stored as the results file's $defs/matrix.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpb {

struct DeviceMatrix {
  std::string name;         // "unidir_bw_p2p_enabled", ...
  std::string unit;         // "GB/s" (1e9 bytes) or "us"
  std::string description;  // what was measured and how, including caveats
  std::vector<int> devices;  // device of each row/column position (repeats allowed)
  std::vector<std::vector<std::optional<double>>> values;  // [src position][dst position]

  // An n x n matrix of empty entries for `devices`.
  static DeviceMatrix empty(std::string name, std::string unit, std::string description, std::vector<int> devices);

  // Over the measured entries; empty when none was measured.
  std::optional<double> sum() const;
  std::optional<double> min() const;
  std::optional<double> max() const;
  std::optional<double> average() const;
  std::size_t measured() const;

  // The schema's matrix object (values rounded to 6 significant digits; null where empty).
  nlohmann::json to_json() const;
  // Reads one back (tests, reports). Throws std::invalid_argument on a malformed object.
  static DeviceMatrix from_json(const nlohmann::json& j);
};

// nvbandwidth-style text: a title line, the matrix with device labels ("N/A" where empty), then
// "SUM <name> <value>" and min/max/average lines.
std::string format_matrix(const DeviceMatrix& m);

}  // namespace dpb
