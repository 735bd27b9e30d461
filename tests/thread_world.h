// A World whose "processes" are threads of this test process (world/world.h): the same host
// collectives as MPI (barrier, broadcast, gathers, the library all-reduce), so the process-per-rank
// communicators run under GoogleTest and ThreadSanitizer without mpirun. Each rank's thread holds
// its own ThreadWorld over one shared ThreadWorld::Shared.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "device/cpu_elementwise.h"
#include "world/world.h"

namespace dpb::test {

class ThreadWorld final : public World {
 public:
  struct Shared {
    explicit Shared(int n, std::vector<std::string> host_names = {})
        : ranks(n), slots(static_cast<std::size_t>(n)), hosts(std::move(host_names)) {
      if (hosts.empty()) hosts.assign(static_cast<std::size_t>(n), "node0");
    }
    int ranks;
    std::mutex mutex;
    std::condition_variable cv;
    int arrived = 0;
    std::uint64_t generation = 0;
    bool aborted = false;  // a rank failed: every barrier throws, so no rank waits for it for ever
    std::vector<std::string> slots;
    std::vector<std::string> hosts;
  };

  ThreadWorld(Shared& shared, int rank) : shared_(shared), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return shared_.ranks; }
  int local_rank() const override { return rank_; }
  int local_size() const override { return shared_.ranks; }
  const std::vector<std::string>& hosts() const override { return shared_.hosts; }
  std::string library() const override { return "threads (test)"; }

  void barrier() override {
    std::unique_lock lock(shared_.mutex);
    if (shared_.aborted) throw std::runtime_error("ThreadWorld: another rank failed");
    const std::uint64_t gen = shared_.generation;
    if (++shared_.arrived == shared_.ranks) {
      shared_.arrived = 0;
      ++shared_.generation;
      shared_.cv.notify_all();
      return;
    }
    shared_.cv.wait(lock, [&] { return shared_.generation != gen || shared_.aborted; });
    if (shared_.generation == gen) throw std::runtime_error("ThreadWorld: another rank failed");
  }
  // Called by a rank that failed.
  void fail() {
    std::lock_guard lock(shared_.mutex);
    shared_.aborted = true;
    shared_.cv.notify_all();
  }
  void broadcast(std::string& data, int root) override {
    if (rank_ == root) put(data);
    barrier();
    {
      std::lock_guard lock(shared_.mutex);
      data = shared_.slots[static_cast<std::size_t>(root)];
    }
    barrier();
  }
  std::vector<std::string> all_gather(const std::string& data) override {
    put(data);
    barrier();
    std::vector<std::string> out;
    {
      std::lock_guard lock(shared_.mutex);
      out = shared_.slots;
    }
    barrier();
    return out;
  }
  double all_reduce_max(double value) override {
    double m = value;
    for (double v : gather_doubles(value)) m = std::max(m, v);
    return m;
  }
  std::uint64_t all_reduce_sum(std::uint64_t value) override {
    std::uint64_t s = 0;
    for (double v : gather_doubles(static_cast<double>(value))) s += static_cast<std::uint64_t>(v);
    return s;
  }
  void allreduce_host(DType type, void* data, std::size_t count) override {
    const std::size_t bytes = count * dtype_size(type);
    const auto all = all_gather(std::string(static_cast<const char*>(data), bytes));
    std::memcpy(data, all[0].data(), bytes);
    for (std::size_t r = 1; r < all.size(); ++r) cpu::reduce_add(type, data, all[r].data(), count);
  }
  [[noreturn]] void abort_job(int) override { throw std::logic_error("ThreadWorld::abort_job"); }

 private:
  void put(const std::string& data) {
    std::lock_guard lock(shared_.mutex);
    shared_.slots[static_cast<std::size_t>(rank_)] = data;
  }
  Shared& shared_;
  int rank_;
};

// Runs `body(world, rank)` for every rank of `shared`, each on its own thread with its own
// ThreadWorld, as the processes of an MPI job; returns what each rank's body returned.
inline std::vector<std::string> run_ranks(ThreadWorld::Shared& shared,
                                          const std::function<std::string(ThreadWorld&, int)>& body) {
  std::vector<std::string> out(static_cast<std::size_t>(shared.ranks));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < shared.ranks; ++rank) {
    threads.emplace_back([&, rank] {
      ThreadWorld world(shared, rank);
      out[static_cast<std::size_t>(rank)] = body(world, rank);
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

// `work`'s error text ("" when it returns); on an exception the rank fails the world first, so no
// peer waits for it in a collective.
inline std::string error_of_rank(ThreadWorld& world, const std::function<void()>& work) {
  try {
    work();
    return "";
  } catch (const std::exception& e) {
    world.fail();
    return e.what();
  }
}

}  // namespace dpb::test
