#include "cli_world.h"

#include <chrono>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "collectives/rank_threads.h"

namespace dpb::cli {

std::unique_ptr<World> open_world_if_launched() {
  if (!detect_process_launcher()) return nullptr;
  return open_mpi_world();
}

void check_world_algorithms(const std::vector<AlgorithmName>& algos, const World* world) {
  for (const AlgorithmName& a : algos) {
    if (a.transport == Transport::mpi && !world) {
      throw std::invalid_argument("--algo mpi: needs a process per rank: run dpbench under mpirun or srun");
    }
    if (a.transport == Transport::p2p && world && !world->single_node()) {
      throw std::invalid_argument("--algo " + a.text() + ": the ranks span several nodes; p2p-* stops at the node "
                                  "boundary (shared memory / CUDA IPC): across nodes use nccl-* or mpi");
    }
  }
}

int world_device(const World& world, int device_count) {
  if (device_count < 1) throw std::invalid_argument("process per rank: the backend has no devices");
  return world.local_rank() % device_count;
}

void describe_world(nlohmann::json& system, World& world, const std::vector<int>& devices) {
  system["launch"] = launch_name(Launch::process_per_rank);
  system["mpi"] = world.library();
  nlohmann::json hosts = nlohmann::json::array();
  nlohmann::json ranks = nlohmann::json::array();
  const auto& names = world.hosts();
  for (std::size_t r = 0; r < names.size(); ++r) {
    if (std::find(hosts.begin(), hosts.end(), names[r]) == hosts.end()) hosts.push_back(names[r]);
    ranks.push_back({{"rank", r}, {"host", names[r]}, {"device", r < devices.size() ? devices[r] : -1}});
  }
  system["hosts"] = hosts;
  system["ranks"] = ranks;
}

std::optional<ResultsFile> open_world_results_file(World& world, const OutputFlags& flags,
                                                   const ResultsHeader& header, std::set<std::string>& done) {
  std::optional<ResultsFile> file;
  std::string message;  // "ok\n" + ids, or "error\n" + rank 0's message
  if (world.rank() == 0) {
    try {
      file = open_results_file(flags, header);
      message = "ok";
      if (file) {
        for (const auto& id : file->done_ids()) message += "\n" + id;
      }
    } catch (const std::exception& e) {
      message = std::string("error\n") + e.what();
    }
  }
  world.broadcast(message, 0);
  if (message.rfind("error\n", 0) == 0) throw std::invalid_argument(message.substr(6));
  std::size_t pos = message.find('\n');
  while (pos != std::string::npos) {
    const std::size_t next = message.find('\n', pos + 1);
    done.insert(message.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1));
    pos = next;
  }
  return file;
}

void drop_done_points(std::vector<SweepPoint>& plan, const std::set<std::string>& done) {
  std::erase_if(plan, [&](const SweepPoint& p) { return done.count(p.id) > 0; });
}

void guard_points(std::vector<SweepPoint>& plan, World& world, JobWatchdog& watchdog, double timeout_s,
                  ResultsFile* results) {
  const bool leader = world.rank() == 0;
  const double deadline = leader ? timeout_s : timeout_s + 2.0;
  for (SweepPoint& point : plan) {
    point.run = [&world, &watchdog, deadline, timeout_s, results, leader, run = std::move(point.run),
                 id = point.id, kind = point.kind, axes = point.axes, label = point.label] {
      watchdog.arm(deadline, [&world, timeout_s, results, leader, id, kind, axes, label] {
        std::ostringstream seconds;
        seconds << timeout_s;
        const std::string why = "point passed --timeout " + seconds.str() +
                                " s: a rank is hung or dead; every rank of the MPI job is stopped (MPI_Abort)";
        std::cerr << "dpbench: rank " << world.rank() << ": " << label << ": " << why << std::endl;
        if (leader && results) {
          try {
            PointRecord rec;
            rec.id = id;
            rec.kind = kind;
            rec.axes = axes;
            rec.set_status(PointStatus::timeout, why);
            results->append(rec);
          } catch (const std::exception& e) {
            std::cerr << "dpbench: could not record the timeout: " << e.what() << std::endl;
          }
        }
        world.abort_job(3);
      });
      PointRecord rec = run();
      if (!watchdog.disarm()) {
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // the watchdog ends the job
      }
      return rec;
    };
  }
}

}  // namespace dpb::cli
