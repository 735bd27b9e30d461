// One data-parallel training step of the reference model (small preset: ~1M parameters, batch
// 32) per backend and precision, timed by the step's device events (manual time): forward,
// backward with bucketed all-reduce, optimizer. Ranks: 1 and 2 (p2p-ring; two ranks may share a
// GPU). CUDA cases are skipped where no GPU is visible.
#include <benchmark/benchmark.h>

#include <memory>

#include "collectives/communicator.h"
#include "device/backend.h"
#include "train/step_timing.h"
#include "train/trainer.h"

namespace dpb {
namespace {

void BM_TrainStep(benchmark::State& state) {
  const auto kind = static_cast<BackendKind>(state.range(0));
  const auto precision = static_cast<DType>(state.range(1));
  const int ranks = static_cast<int>(state.range(2));
  state.SetLabel(std::string(backend_name(kind)) + "/" + std::string(dtype_name(precision)) + "/" +
                 std::to_string(ranks) + "rank");
  if (kind == BackendKind::cuda && visible_cuda_devices() == 0) {
    state.SkipWithError("no CUDA device visible");
    for (auto _ : state) {
    }
    return;
  }
  std::unique_ptr<Backend> backend = make_backend(kind);
  std::vector<int> devices;
  for (int r = 0; r < ranks; ++r) devices.push_back(r % backend->device_count());
  auto comm = make_communicator(*backend, parse_algorithm("p2p-ring"), devices);
  TrainConfig config;
  config.model = parse_model("small");
  config.precision = precision;
  config.optimizer = default_optimizer(OptimizerKind::adamw);
  config.local_batch = 32;
  Trainer trainer(*backend, *comm, config);
  trainer.step();  // warm-up: first-touch allocations, cuBLAS heuristics
  for (auto _ : state) {
    const StepResult r = trainer.step();
    const StepTiming t = step_timing(r.spans, ranks, static_cast<int>(trainer.plan().buckets.size()));
    state.SetIterationTime(t.step_ms / 1e3);
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * trainer.global_batch(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{static_cast<int>(BackendKind::cpu), static_cast<int>(BackendKind::cuda)},
                   {static_cast<int>(DType::f32), static_cast<int>(DType::f16), static_cast<int>(DType::bf16)},
                   {1, 2}})
    ->ArgNames({"backend", "precision", "ranks"})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dpb
