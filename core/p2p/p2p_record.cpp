#include "p2p/p2p_record.h"

namespace dpb {

PointRecord p2p_point_record(const P2POptions& options, const P2PResult& result, std::string started_at,
                             double duration_s) {
  PointRecord r;
  r.kind = "p2p";
  r.id = make_point_id("p2p", {{"devices", id_value(result.devices)},
                               {"bytes", id_value(options.bytes)},
                               {"repeats", id_value(options.repeats)}});
  r.axes = {{"ranks", static_cast<int>(result.devices.size())},
            {"devices", result.devices},
            {"bytes", options.bytes},
            {"repeats", options.repeats},
            {"latency_bytes", options.latency_bytes},
            {"latency_repeats", options.latency_repeats}};
  r.started_at = std::move(started_at);
  r.duration_s = duration_s;
  nlohmann::json matrices = nlohmann::json::array();
  for (const DeviceMatrix& m : result.matrices) matrices.push_back(m.to_json());
  r.more["matrices"] = std::move(matrices);
  if (!result.problems.empty()) {
    std::string why;
    for (const auto& p : result.problems) why += (why.empty() ? "" : "; ") + p;
    r.set_status(result.timed_out ? PointStatus::timeout : PointStatus::failed, why);
  }
  return r;
}

}  // namespace dpb
