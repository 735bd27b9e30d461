// What names an allreduce point: its id, axes and label (declared in allreduce_point.h).
#include <string>
#include <vector>

#include "sweep/allreduce_point.h"
#include "sweep/sizes.h"

namespace dpb {

namespace {

using json = nlohmann::json;
using Spec = AllreducePointSpec;

std::vector<Axis<AllreducePointSpec>> allreduce_axis_list() {
  using A = Axis<AllreducePointSpec>;
  return {
      A("algo", [](const Spec& p) { return json(p.algo.text()); }).label(axis_label_value()),
      A("dtype", [](const Spec& p) { return json(dtype_name(p.dtype)); }).label(axis_label_value()),
      A("ranks", [](const Spec& p) { return json(p.ranks()); }).label(axis_label_prefixed("n=")),
      A("devices", [](const Spec& p) { return json(p.devices); }),
      A("bytes", [](const Spec& p) { return json(p.bytes()); })
          .label([](const json& v) { return format_size(v.get<std::size_t>()); }),
      A("count", [](const Spec& p) { return json(p.count); }).not_in_id(),  // follows from bytes and dtype
      A("in_place", [](const Spec& p) { return json(p.in_place); })
          .label([](const json& v) { return std::string(v.get<bool>() ? "in-place" : "out-of-place"); }),
      A("graph", [](const Spec& p) { return json(p.graph); })
          .label([](const json& v) { return v.get<int>() > 0 ? "graph=" + id_text(v) : ""; }),
  };
}

}  // namespace

const PointAxes<AllreducePointSpec>& allreduce_point_axes() {
  static const PointAxes<AllreducePointSpec> axes("allreduce", allreduce_axis_list());
  return axes;
}

std::string allreduce_point_id(const AllreducePointSpec& p) { return allreduce_point_axes().id(p); }
nlohmann::json allreduce_axes(const AllreducePointSpec& p) { return allreduce_point_axes().axes(p); }
std::string allreduce_label(const AllreducePointSpec& p) { return allreduce_point_axes().label(p); }

double allreduce_busbw_factor(int ranks) {
  return ranks <= 0 ? 0.0 : 2.0 * (ranks - 1) / static_cast<double>(ranks);
}

}  // namespace dpb
