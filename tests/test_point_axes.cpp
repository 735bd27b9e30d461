// Point ids, axes, labels and baseline keys of train and allreduce points, pinned byte for byte.
// Results files and --resume match points by id (core/results/point_record.h), and a train point
// finds its 1-rank baseline (scaling efficiency) by key, also among points read from older files:
// none of these may change when the code that derives them does. The pins were taken from the
// code before the axis descriptors (core/train/train_axes.h, core/sweep/allreduce_axes.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "device/cpu_backend.h"
#include "p2p/p2p_record.h"
#include "sweep/allreduce_point.h"
#include "train/train_point.h"

namespace dpb {
namespace {

using json = nlohmann::json;

TrainPointSpec weak_small() {
  TrainPointSpec s;
  s.model = parse_model("small");
  s.algo = {Transport::p2p, "ring"};
  s.devices = {0, 1};
  return s;
}

TrainPointSpec strong_bf16() {
  TrainPointSpec s;
  s.model = parse_model("64,128,10");
  s.algo = {Transport::nccl, "tree"};
  s.precision = DType::bf16;
  s.devices = {0, 1, 2, 3};
  s.bucket_mb = 0.5;
  s.first_bucket_mb = 0;
  s.batch = 16;
  s.scaling = Scaling::strong;
  s.overlap = false;
  s.optimizer = OptimizerKind::sgd;
  return s;
}

TrainPointSpec with_sync_axes() {
  TrainPointSpec s = weak_small();
  s.devices = {0};
  s.accum = 4;
  s.comm_dtype = DType::bf16;
  s.lr_scaling = LrScaling::linear;
  return s;
}

TEST(TrainPointAxes, DefaultsKeepTheIdsOfEarlierFiles) {
  const TrainPointSpec s = weak_small();
  EXPECT_EQ(train_point_id(s),
            "train/model=small/algo=p2p-ring/precision=fp32/ranks=2/devices=0,1/bucket_mb=25/first_bucket_mb=1/"
            "batch=32/global_batch=64/scaling=weak/overlap=1/optimizer=adamw");
  EXPECT_EQ(train_label(s), "small p2p-ring fp32 n=2 b25 bs32");
  EXPECT_EQ(train_baseline_key(s),
            "train-baseline/sync=1;fp32;none/model=small/algo=p2p-ring/precision=fp32/bucket_mb=25/"
            "first_bucket_mb=1/batch=32/scaling=weak/overlap=1/optimizer=adamw");
  EXPECT_EQ(train_axes(s).dump(),
            R"({"accum":1,"algo":"p2p-ring","batch":32,"bucket_mb":25.0,"comm_dtype":"fp32","devices":[0,1],)"
            R"("first_bucket_mb":1.0,"global_batch":64,"lr_scaling":"none","model":"small","optimizer":"adamw",)"
            R"("overlap":true,"precision":"fp32","ranks":2,"scaling":"weak"})");
}

TEST(TrainPointAxes, StrongScalingFractionalBucketsAndNoOverlap) {
  const TrainPointSpec s = strong_bf16();
  EXPECT_EQ(train_point_id(s),
            "train/model=64,128,10/algo=nccl-tree/precision=bf16/ranks=4/devices=0,1,2,3/bucket_mb=0.5/"
            "first_bucket_mb=0/batch=16/global_batch=64/scaling=strong/overlap=0/optimizer=sgd");
  EXPECT_EQ(train_label(s), "64,128,10 nccl-tree bf16 n=4 b0.5 bs16 no-overlap");
  // Strong scaling: the baseline is the 1-rank point of the same global batch.
  EXPECT_EQ(train_baseline_key(s),
            "train-baseline/sync=1;bf16;none/model=64,128,10/algo=nccl-tree/precision=bf16/bucket_mb=0.5/"
            "first_bucket_mb=0/batch=64/scaling=strong/overlap=0/optimizer=sgd");
  EXPECT_EQ(train_axes(s).dump(),
            R"({"accum":1,"algo":"nccl-tree","batch":16,"bucket_mb":0.5,"comm_dtype":"bf16","devices":[0,1,2,3],)"
            R"("first_bucket_mb":0.0,"global_batch":64,"lr_scaling":"none","model":"64,128,10","optimizer":"sgd",)"
            R"("overlap":false,"precision":"bf16","ranks":4,"scaling":"strong"})");
}

TEST(TrainPointAxes, SyncAxesOffTheirDefaultAreNamedLast) {
  const TrainPointSpec s = with_sync_axes();
  EXPECT_EQ(train_point_id(s),
            "train/model=small/algo=p2p-ring/precision=fp32/ranks=1/devices=0/bucket_mb=25/first_bucket_mb=1/"
            "batch=32/global_batch=32/scaling=weak/overlap=1/optimizer=adamw/accum=4/comm_dtype=bf16/"
            "lr_scaling=linear");
  EXPECT_EQ(train_label(s), "small p2p-ring fp32 n=1 b25 bs32 accum=4 comm_dtype=bf16 lr_scaling=linear");
  EXPECT_EQ(train_baseline_key(s),
            "train-baseline/sync=4;bf16;linear/model=small/algo=p2p-ring/precision=fp32/bucket_mb=25/"
            "first_bucket_mb=1/batch=32/scaling=weak/overlap=1/optimizer=adamw");
  // comm_dtype given as the precision is its default: not named.
  TrainPointSpec same = weak_small();
  same.comm_dtype = DType::f32;
  same.lr_scaling = LrScaling::sqrt;
  EXPECT_EQ(train_point_id(same),
            "train/model=small/algo=p2p-ring/precision=fp32/ranks=2/devices=0,1/bucket_mb=25/first_bucket_mb=1/"
            "batch=32/global_batch=64/scaling=weak/overlap=1/optimizer=adamw/lr_scaling=sqrt");
  EXPECT_EQ(train_label(same), "small p2p-ring fp32 n=2 b25 bs32 lr_scaling=sqrt");
}

// A stored point as a results file holds it (axes as train_axes wrote them, or older: no sync axes).
json stored(json axes, double step_ms, const char* status = "ok") {
  return {{"kind", "train"}, {"status", status}, {"axes", std::move(axes)}, {"stats", {{"step", {{"median", step_ms}}}}}};
}

json old_weak_axes() {  // a file written before the sync axes existed
  return {{"model", "small"},   {"algo", "p2p-ring"},     {"precision", "fp32"}, {"ranks", 1},
          {"devices", {0}},     {"bucket_mb", 25.0},      {"first_bucket_mb", 1.0}, {"batch", 32},
          {"global_batch", 32}, {"scaling", "weak"},      {"overlap", true},     {"optimizer", "adamw"}};
}

TEST(TrainPointAxes, StoredOneRankPointsAreBaselines) {
  CpuBackend backend;
  TrainBench bench(backend, TrainBenchConfig{});
  EXPECT_FALSE(bench.baseline_step_ms(weak_small()));
  bench.remember(stored(old_weak_axes(), 10.0));
  EXPECT_EQ(bench.baseline_step_ms(weak_small()), 10.0);
  TrainPointSpec sync2 = with_sync_axes();
  sync2.devices = {0, 1};
  EXPECT_FALSE(bench.baseline_step_ms(sync2));  // another sync config
  bench.remember(stored(train_axes(with_sync_axes()), 12.0));
  EXPECT_EQ(bench.baseline_step_ms(sync2), 12.0);

  TrainPointSpec one = strong_bf16();
  one.devices = {0};
  one.batch = 64;  // the 1-rank point of global batch 64
  bench.remember(stored(train_axes(one), 20.0));
  EXPECT_EQ(bench.baseline_step_ms(strong_bf16()), 20.0);
}

TEST(TrainPointAxes, OtherPointsAreNoBaselines) {
  CpuBackend backend;
  TrainBench bench(backend, TrainBenchConfig{});
  json two = old_weak_axes();
  two["ranks"] = 2;
  bench.remember(stored(two, 1.0));
  bench.remember(stored(old_weak_axes(), 2.0, "failed"));
  json broken = old_weak_axes();
  broken.erase("optimizer");
  bench.remember(stored(broken, 3.0));
  json wrong_type = old_weak_axes();
  wrong_type["batch"] = "many";
  bench.remember(stored(wrong_type, 4.0));
  json other_kind = stored(old_weak_axes(), 5.0);
  other_kind["kind"] = "allreduce";
  bench.remember(other_kind);
  EXPECT_FALSE(bench.baseline_step_ms(weak_small()));
}

TEST(AllreducePointAxes, IdsLabelsAndAxes) {
  const AllreducePointSpec a{{Transport::p2p, "ring"}, DType::bf16, {0, 1, 2, 3}, 1024, true, 0};
  EXPECT_EQ(allreduce_point_id(a), "allreduce/algo=p2p-ring/dtype=bf16/ranks=4/devices=0,1,2,3/bytes=2048/in_place=1/graph=0");
  EXPECT_EQ(allreduce_label(a), "p2p-ring bf16 n=4 2K in-place");
  EXPECT_EQ(allreduce_axes(a).dump(),
            R"({"algo":"p2p-ring","bytes":2048,"count":1024,"devices":[0,1,2,3],"dtype":"bf16","graph":0,)"
            R"("in_place":true,"ranks":4})");
  const AllreducePointSpec b{{Transport::nccl, "auto"}, DType::f32, {1, 0}, 1000, false, 8};
  EXPECT_EQ(allreduce_point_id(b), "allreduce/algo=nccl-auto/dtype=fp32/ranks=2/devices=1,0/bytes=4000/in_place=0/graph=8");
  EXPECT_EQ(allreduce_label(b), "nccl-auto fp32 n=2 4000 out-of-place graph=8");
  EXPECT_EQ(allreduce_axes(b).dump(),
            R"({"algo":"nccl-auto","bytes":4000,"count":1000,"devices":[1,0],"dtype":"fp32","graph":8,)"
            R"("in_place":false,"ranks":2})");
}

TEST(P2PPointAxes, IdAndAxes) {
  P2POptions o;
  o.devices = {2, 0, 1};
  o.bytes = 65536;
  o.repeats = 3;
  P2PResult r;
  r.devices = {2, 0, 1};
  const PointRecord rec = p2p_point_record(o, r, "2026-12-02T00:00:00Z", 1.0);
  EXPECT_EQ(rec.id, "p2p/devices=2,0,1/bytes=65536/repeats=3");
  EXPECT_EQ(rec.axes.dump(),
            R"({"bytes":65536,"devices":[2,0,1],"latency_bytes":16,"latency_repeats":100,"ranks":3,"repeats":3})");
}

}  // namespace
}  // namespace dpb
