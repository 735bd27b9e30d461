#include "p2p/p2p_record.h"

namespace dpb {

namespace {

using json = nlohmann::json;
using A = Axis<P2POptions>;

std::vector<A> p2p_axis_list() {
  return {
      A("ranks", [](const P2POptions& o) { return json(static_cast<int>(o.devices.size())); }).not_in_id(),
      A("devices", [](const P2POptions& o) { return json(o.devices); }),
      A("bytes", [](const P2POptions& o) { return json(o.bytes); }),
      A("repeats", [](const P2POptions& o) { return json(o.repeats); }),
      A("latency_bytes", [](const P2POptions& o) { return json(o.latency_bytes); }).not_in_id(),
      A("latency_repeats", [](const P2POptions& o) { return json(o.latency_repeats); }).not_in_id(),
  };
}

}  // namespace

const PointAxes<P2POptions>& p2p_point_axes() {
  static const PointAxes<P2POptions> axes("p2p", p2p_axis_list());
  return axes;
}

PointRecord p2p_point_record(const P2POptions& options, const P2PResult& result, std::string started_at,
                             double duration_s) {
  PointRecord r;
  r.kind = "p2p";
  P2POptions measured = options;
  measured.devices = result.devices;  // the positions measured
  r.id = p2p_point_axes().id(measured);
  r.axes = p2p_point_axes().axes(measured);
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
