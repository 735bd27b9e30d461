// Throughput of the backend's reduce-add primitive per dtype: the inner loop of every custom
// all-reduce. Bytes processed count the two reads and one write of each element.
#include <benchmark/benchmark.h>

#include "device/cpu_backend.h"

namespace dpb {
namespace {

void BM_CpuReduceAdd(benchmark::State& state) {
  const auto type = static_cast<DType>(state.range(0));
  const auto count = static_cast<std::size_t>(state.range(1));
  CpuBackend backend;
  auto stream = backend.make_stream(0);
  auto a = backend.allocate(0, count * dtype_size(type));
  auto b = backend.allocate(0, count * dtype_size(type));
  stream->fill(type, a.data(), count, 1.0);
  stream->fill(type, b.data(), count, 0.0);
  for (auto _ : state) {
    stream->reduce_add(type, b.data(), a.data(), count);
    stream->synchronize();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 3 * count * dtype_size(type)));
  state.SetLabel(std::string(dtype_name(type)));
}
BENCHMARK(BM_CpuReduceAdd)
    ->ArgsProduct({{static_cast<int>(DType::f32), static_cast<int>(DType::f16), static_cast<int>(DType::bf16)},
                   {1 << 16, 1 << 22}})
    ->UseRealTime();

}  // namespace
}  // namespace dpb
