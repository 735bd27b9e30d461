// All-reduce throughput per algorithm, rank count and message size: the p2p schedules on the cpu
// backend, and on cuda (with NCCL beside them for reference) where a GPU is visible. Each
// iteration is one in-place fp32 all-reduce, timed by wall clock from enqueue to the last rank's
// stream synchronize. Counters follow nccl-tests: algbw = bytes / time and busbw = algbw * 2(n-1)/n,
// as rates of GB (1e9 bytes) per second: counters algbw_GB and busbw_GB, shown as "x/s".
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "device/backend.h"
#include "sweep/allreduce_point.h"

namespace dpb {
namespace {

void BM_Allreduce(benchmark::State& state, BackendKind kind, const std::string& algo) {
  const int ranks = static_cast<int>(state.range(0));
  const auto bytes = static_cast<std::size_t>(state.range(1));
  const DType type = DType::f32;
  const std::size_t count = bytes / dtype_size(type);

  std::unique_ptr<Backend> backend;
  std::vector<int> devices;
  if (kind == BackendKind::cuda) {
    const int gpus = visible_cuda_devices();
    if (gpus == 0) {
      state.SkipWithError("no CUDA device visible");
      return;
    }
    backend = make_backend(BackendKind::cuda);
    for (int r = 0; r < ranks; ++r) devices.push_back(r % gpus);
  } else {
    CpuBackendOptions cpu;
    cpu.devices = ranks;
    backend = make_backend(BackendKind::cpu, cpu);
    for (int r = 0; r < ranks; ++r) devices.push_back(r);
  }

  std::unique_ptr<Communicator> comm;
  try {
    comm = make_communicator(*backend, parse_algorithm(algo), devices);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());  // e.g. NCCL with more ranks than GPUs
    return;
  }
  std::vector<std::unique_ptr<Stream>> owned;
  std::vector<Stream*> streams;
  std::vector<DeviceBuffer> buffers;
  std::vector<const void*> send;
  std::vector<void*> recv;
  for (int r = 0; r < ranks; ++r) {
    const int d = devices[static_cast<std::size_t>(r)];
    owned.push_back(backend->make_stream(d));
    streams.push_back(owned.back().get());
    buffers.push_back(backend->allocate(d, bytes));
    owned.back()->fill(type, buffers.back().data(), count, 1.0);
    send.push_back(buffers.back().data());
    recv.push_back(buffers.back().data());
  }
  const auto sync_all = [&] {
    for (Stream* s : streams) s->synchronize();
  };
  // Warm-up: builds and caches the schedule, allocates scratch (or lets NCCL connect).
  comm->allreduce(type, send, recv, count, streams);
  sync_all();

  for (auto _ : state) {
    comm->allreduce(type, send, recv, count, streams);
    sync_all();
  }
  const double total = static_cast<double>(state.iterations()) * static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
  state.counters["algbw_GB"] = benchmark::Counter(total / 1e9, benchmark::Counter::kIsRate);
  state.counters["busbw_GB"] =
      benchmark::Counter(total / 1e9 * allreduce_busbw_factor(ranks), benchmark::Counter::kIsRate);
  state.SetLabel(algo + " on " + std::string(backend_name(kind)));
}

void sizes_and_ranks(benchmark::internal::Benchmark* b) {
  b->ArgNames({"ranks", "bytes"});
  b->ArgsProduct({{2, 4, 8}, {64 << 10, 1 << 20, 16 << 20}});
  b->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Allreduce, cpu_p2p_ring, BackendKind::cpu, "p2p-ring")->Apply(sizes_and_ranks);
BENCHMARK_CAPTURE(BM_Allreduce, cpu_p2p_tree, BackendKind::cpu, "p2p-tree")->Apply(sizes_and_ranks);
BENCHMARK_CAPTURE(BM_Allreduce, cpu_p2p_direct, BackendKind::cpu, "p2p-direct")->Apply(sizes_and_ranks);
BENCHMARK_CAPTURE(BM_Allreduce, cuda_p2p_ring, BackendKind::cuda, "p2p-ring")->Apply(sizes_and_ranks);
BENCHMARK_CAPTURE(BM_Allreduce, cuda_p2p_tree, BackendKind::cuda, "p2p-tree")->Apply(sizes_and_ranks);
BENCHMARK_CAPTURE(BM_Allreduce, cuda_p2p_direct, BackendKind::cuda, "p2p-direct")->Apply(sizes_and_ranks);
BENCHMARK_CAPTURE(BM_Allreduce, cuda_nccl_auto, BackendKind::cuda, "nccl-auto")->Apply(sizes_and_ranks);

}  // namespace
}  // namespace dpb
