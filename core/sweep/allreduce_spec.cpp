// What names an allreduce point: its id, axes and label (declared in allreduce_point.h).
#include <string>
#include <vector>

#include "sweep/allreduce_point.h"
#include "sweep/sizes.h"

namespace dpb {

std::string allreduce_point_id(const AllreducePointSpec& p) {
  return make_point_id("allreduce", {{"algo", p.algo.text()},
                                     {"dtype", id_value(dtype_name(p.dtype))},
                                     {"ranks", id_value(p.ranks())},
                                     {"devices", id_value(p.devices)},
                                     {"bytes", id_value(p.bytes())},
                                     {"in_place", id_value(p.in_place)},
                                     {"graph", id_value(p.graph)}});
}

nlohmann::json allreduce_axes(const AllreducePointSpec& p) {
  return {{"algo", p.algo.text()},   {"dtype", dtype_name(p.dtype)}, {"ranks", p.ranks()},
          {"devices", p.devices},    {"bytes", p.bytes()},           {"count", p.count},
          {"in_place", p.in_place},  {"graph", p.graph}};
}

std::string allreduce_label(const AllreducePointSpec& p) {
  return p.algo.text() + " " + std::string(dtype_name(p.dtype)) + " n=" + std::to_string(p.ranks()) + " " +
         format_size(p.bytes()) + (p.in_place ? " in-place" : " out-of-place") +
         (p.graph > 0 ? " graph=" + std::to_string(p.graph) : "");
}

double allreduce_busbw_factor(int ranks) {
  return ranks <= 0 ? 0.0 : 2.0 * (ranks - 1) / static_cast<double>(ranks);
}

}  // namespace dpb
