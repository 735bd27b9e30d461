// The one executor for every schedule, on any backend: a copy to a peer is Stream::copy_peer on
// the sender's stream, a reduce is Stream::reduce_add, and a signal is a slot of a SignalSet that
// its owner's stream writes and other streams wait on (backend.h).
//
// Signals name their generation. Generation g of signal s in call c (counted from 0 per prepared
// schedule) is the value c * R_s + g, where R_s is how often s is recorded in one call; a wait
// for it waits for the slot to reach that value. Values only grow, so a wait needs no host
// ordering against its record: every rank enqueues its own steps, from its own thread, in any
// interleaving with the others (thread per rank), or one thread enqueues all ranks in turn.
// Every rank of a call must pass the same call index (the communicator counts them).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "collectives/schedule.h"
#include "collectives/schedule_order.h"
#include "device/backend.h"

namespace dpb {

// Where one rank's regions live for one call.
struct RankMemory {
  const void* input = nullptr;
  void* output = nullptr;
  void* scratch = nullptr;
};

// A schedule with what is expensive to make done once: the deadlock check and one signal slot
// per signal. Reused across calls of the same shape; a call allocates nothing.
class PreparedSchedule {
 public:
  // `devices[r]` is rank r's device. Throws ScheduleError when the schedule deadlocks.
  PreparedSchedule(Backend& backend, Schedule schedule, const std::vector<int>& devices);
  // The same with its signals in `signals` (at least schedule().signals() slots, all 0): slots
  // that streams of other processes reach (process per rank, Backend::make_signals_in).
  PreparedSchedule(Backend& backend, Schedule schedule, const std::vector<int>& devices,
                   std::unique_ptr<SignalSet> signals);
  PreparedSchedule(const PreparedSchedule&) = delete;
  PreparedSchedule& operator=(const PreparedSchedule&) = delete;

  const Schedule& schedule() const { return schedule_; }
  // Every signal back to 0 (SignalSet::reset's precondition applies): the next call is call 0.
  void reset_signals() { signals_->reset(); }
  // Satisfies every wait of this schedule (SignalSet::release_all): after an abort.
  void release_signals() { signals_->release_all(); }

  // Enqueues rank `rank`'s steps of call number `call` on `stream`. memory[r] is every rank's
  // memory for this call (copies write into peers' regions); rank's scratch must hold
  // schedule().scratch_elems[rank] elements of `type`. Safe to call concurrently for different
  // ranks. Returns once enqueued.
  void enqueue_rank(int rank, std::uint64_t call, DType type, std::span<const RankMemory> memory, Stream& stream) const;
  // Every rank's steps from one thread, in the sequential execution order (schedule_order.h): the
  // host can block on a full stream queue (CUDA's ~1,000 pending operations, the cpu backend's
  // queue depth) without deadlock, since every record a queued wait needs is already enqueued.
  void enqueue(std::uint64_t call, DType type, std::span<const RankMemory> memory,
               std::span<Stream* const> streams) const;

 private:
  Schedule schedule_;
  void enqueue_step(int rank, const Step& st, std::uint64_t call, DType type, std::span<const RankMemory> memory,
                    Stream& stream) const;

  std::vector<int> devices_;
  std::vector<StepRef> order_;
  std::vector<std::uint32_t> records_per_call_;
  std::unique_ptr<SignalSet> signals_;
};

}  // namespace dpb
