// The train point's axes, declared once (results/point_axes.h): ids, axes, labels, baseline keys
// and the sweep's recorded options of `dpbench train` all come from this list.
#include <optional>
#include <string>

#include "train/train_point.h"

namespace dpb {
namespace {

using json = nlohmann::json;
using Spec = TrainPointSpec;
using TrainAxis = Axis<TrainPointSpec>;

json one_rank_batch(const json& axes) {  // weak scaling: the per-rank batch; strong: the global one
  return axes.at("scaling") == "weak" ? axes.at("batch") : axes.at("global_batch");
}

std::vector<TrainAxis> train_axis_list() {
  const auto key = InBaseline::key;
  const auto grouped = InBaseline::grouped;
  const auto list = AxisOption::list;
  const auto one = AxisOption::one;
  return {
      TrainAxis("model", [](const Spec& p) { return json(p.model.name); })
          .label(axis_label_value()).baseline(key).option(one),
      TrainAxis("algo", [](const Spec& p) { return json(p.algo.text()); })
          .label(axis_label_value()).baseline(key).option(list),
      TrainAxis("precision", [](const Spec& p) { return json(dtype_name(p.precision)); })
          .label(axis_label_value()).baseline(key).option(list),
      TrainAxis("ranks", [](const Spec& p) { return json(p.ranks()); }).label(axis_label_prefixed("n=")),
      TrainAxis("devices", [](const Spec& p) { return json(p.devices); }),
      TrainAxis("bucket_mb", [](const Spec& p) { return json(p.bucket_mb); })
          .label(axis_label_prefixed("b")).baseline(key).option(list),
      TrainAxis("first_bucket_mb", [](const Spec& p) { return json(p.first_bucket_mb); }).baseline(key).option(one),
      // The sweep lists per-rank batches for weak scaling, global ones for strong.
      TrainAxis("batch", [](const Spec& p) { return json(p.batch); })
          .label(axis_label_prefixed("bs")).baseline(key, one_rank_batch)
          .option(list, [](const Spec& p) { return p.scaling == Scaling::weak ? std::optional<json>(p.batch) : std::nullopt; }),
      TrainAxis("global_batch", [](const Spec& p) { return json(p.global_batch()); }).option(list, [](const Spec& p) {
        return p.scaling == Scaling::strong ? std::optional<json>(p.global_batch()) : std::nullopt;
      }),
      TrainAxis("scaling", [](const Spec& p) { return json(scaling_name(p.scaling)); }).baseline(key).option(one),
      TrainAxis("overlap", [](const Spec& p) { return json(p.overlap); })
          .label(axis_label_if_false("no-overlap")).baseline(key).option(one),
      TrainAxis("optimizer", [](const Spec& p) { return json(optimizer_name(p.optimizer)); }).baseline(key).option(one),
      // Sync frequency, compression and convergence (issue 13): added after files existed, so named
      // in ids and labels only off their default, and grouped in the baseline key.
      TrainAxis("accum", [](const Spec& p) { return json(p.accum); })
          .label(axis_label_named("accum")).default_value([](const json&) { return json(1); })
          .baseline(grouped).option(list),
      TrainAxis("comm_dtype", [](const Spec& p) { return json(dtype_name(p.comm_type())); })
          .label(axis_label_named("comm_dtype")).default_value([](const json& axes) { return axes.at("precision"); })
          .baseline(grouped)
          .option(list, [](const Spec& p) { return std::optional<json>(p.comm_dtype ? dtype_name(*p.comm_dtype) : "precision"); }),
      TrainAxis("lr_scaling", [](const Spec& p) { return json(lr_scaling_name(p.lr_scaling)); })
          .label(axis_label_named("lr_scaling")).default_value([](const json&) { return json("none"); })
          .baseline(grouped).option(list),
  };
}

}  // namespace

const PointAxes<TrainPointSpec>& train_point_axes() {
  static const PointAxes<TrainPointSpec> axes("train", train_axis_list(), {"train-baseline", "sync"});
  return axes;
}

std::string_view scaling_name(Scaling s) { return s == Scaling::weak ? "weak" : "strong"; }

std::string train_point_id(const TrainPointSpec& p) { return train_point_axes().id(p); }
nlohmann::json train_axes(const TrainPointSpec& p) { return train_point_axes().axes(p); }
std::string train_label(const TrainPointSpec& p) { return train_point_axes().label(p); }
std::string train_baseline_key(const TrainPointSpec& p) { return train_point_axes().baseline_key(p); }

}  // namespace dpb
