// One result record (the schema's $defs/point) and its stable id.
//
// A command measures a point and fills a PointRecord; ResultsFile::append serializes it. Records
// are values: nothing here touches the file.
//
// Point ids: "<kind>/<axis>=<value>/..." built from the axis values in a fixed per-command order,
// e.g. "allreduce/algo=p2p-ring/dtype=fp32/ranks=4/devices=0,1,2,3/bytes=65536/in_place=0/graph=0".
// Booleans are 0/1, integer lists comma-joined, doubles in shortest round-trip form. The same axes
// always give the same id: --resume and `compare` match points by it, so never change an existing
// command's id recipe without bumping format_version.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "measure/stats.h"

namespace dpb {

enum class PointStatus { ok, failed, skipped, timeout };
std::string_view point_status_name(PointStatus s);  // "ok", "failed", "skipped", "timeout"

// Formats one axis value for an id.
std::string id_value(bool v);
std::string id_value(long long v);
std::string id_value(int v);
std::string id_value(std::size_t v);
std::string id_value(double v);
std::string id_value(std::string_view v);
std::string id_value(const char* v);  // not bool: a string literal must not convert to bool
std::string id_value(const std::string& v);
std::string id_value(const std::vector<int>& v);

// "<kind>/k1=v1/k2=v2..."; keys and values must not contain '/' (std::invalid_argument).
std::string make_point_id(std::string_view kind,
                          const std::vector<std::pair<std::string, std::string>>& axes);

// A figure derived from or measured in this run (schema $defs/metric). value empty = null (e.g.
// scaling efficiency without a 1-rank point).
struct Metric {
  std::optional<double> value;
  std::string unit;
  std::string description;
  std::string source = "derived";  // "measured" | "derived" | "model"
};

struct PointRecord {
  std::string id;
  std::string kind;        // "allreduce" | "train" | "p2p" | "info"
  nlohmann::json axes = nlohmann::json::object();
  PointStatus status = PointStatus::ok;
  std::optional<std::string> reason;  // required in practice for failed/skipped/timeout
  std::string started_at;             // ISO 8601 UTC
  double duration_s = 0;              // wall time spent on the point
  std::map<std::string, Stats> stats;       // name -> stats (e.g. "time" in us; "step" in ms)
  std::map<std::string, Metric> metrics;    // name -> metric (e.g. "busbw")
  std::optional<nlohmann::json> stopping;   // stopping_to_json(...)
  std::optional<nlohmann::json> check;      // {wrong_elements, checked_elements, tolerance, max_abs_error}
  // Any further schema fields (matrices, buckets, timeline, extra) copied into the record as is.
  nlohmann::json more = nlohmann::json::object();

  // Marks the record failed (or timeout/skipped) with `why`; keeps whatever was measured.
  void set_status(PointStatus s, std::string why);

  nlohmann::json to_json() const;
};

}  // namespace dpb
