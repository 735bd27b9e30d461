// The reference data-parallel training loop (DDP semantics) over the ranks of one communicator.
//
// Every rank holds an identical replica (initialised from the seed on each rank, then checked
// bit-identical), trains on its shard of the global batch (core/train/synthetic_data.h), and
// produces gradients layer by layer in reverse straight into bucket memory. A bucket's all-reduce
// is enqueued on the rank's communication stream as soon as its last gradient is written (an
// event from the compute stream; the comm stream waits on it), so it overlaps the rest of
// backward; with overlap off every all-reduce waits for the end of backward (the baseline).
//
// Averaging: the loss gradient is divided by the GLOBAL batch on every rank (pre-scaling, as DDP
// divides by world size before its all-reduce), so the all-reduce's sum is already the mean
// gradient and no scaling pass follows. A 1-rank run scales by the same 1/G, so 1-rank and N-rank
// runs add the same per-sample terms and differ only in summation order.
//
// fp16 uses dynamic loss scaling (core/train/loss_scaler.h). Overflow is checked on the
// all-reduced gradients on every rank, and the optimizer kernel reads the flag on the device and
// skips the update, so every rank takes the same decision without a host round trip; the host
// reads the flags after the step and checks the ranks agreed.
//
// Launch (collectives/rank_threads.h): with a thread per rank (the default) each rank's thread
// enqueues its own data upload, forward, backward, bucket all-reduces (allreduce_rank) and update,
// as a DDP process does; single-thread enqueues every rank's work from one thread, phase by phase.
// Both run the same per-rank pieces. step() then waits through the Watchdog, so a hung all-reduce
// becomes a TimeoutError instead of a hang; the host time each step spent enqueueing is recorded.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/rank_threads.h"
#include "measure/timeline.h"
#include "train/bucket.h"
#include "train/layer_pass.h"
#include "train/loss_scaler.h"
#include "train/replica.h"
#include "train/synthetic_data.h"
#include "train/train_config.h"
#include "train/watchdog.h"
#include "train/weights.h"
#include "world/world.h"

namespace dpb {

// Gradient norms of one probed step (gradient noise scale, McCandlish et al. 2018, App. A): the
// squared norm of each rank's own mean gradient before the all-reduce (batch b_small = per-rank
// samples per update), averaged over ranks, and of the all-reduced mean gradient (b_big = global
// samples per update). Loss scaling is undone.
struct GradientProbe {
  double small_sq = 0, big_sq = 0;
  long long b_small = 0, b_big = 0;
};

struct StepResult {
  std::int64_t step = 0;    // global step index (warm-up included), selects the data
  double loss = 0;          // mean loss over the step's samples (all micro-batches; fp32 per sample, summed in double)
  float lr = 0;             // the learning rate this step applied (schedule included)
  std::optional<GradientProbe> probe;  // when step(true) on more than one rank
  bool skipped = false;     // the loss scaler skipped the update (fp16 overflow)
  float loss_scale = 1.0f;  // the scale this step used
  double host_enqueue_ms = 0;  // host time to enqueue the step (thread per rank: the slowest rank's)
  std::vector<TimelineSpan> spans;
};

// Result of comparing every rank's fp32 master weights with rank 0's.
struct ReplicaCheck {
  bool identical = true;
  int first_bad_rank = -1;
  std::size_t differing_elements = 0;
  double max_abs_diff = 0;
  std::string describe() const;  // "rank 2 differs from rank 0 in 17 of 1055242 weights (max |diff| 3e-8)"
};

class Trainer {
 public:
  // Ranks and devices are the communicator's. Allocates, initialises and verifies the replicas
  // (throws std::runtime_error when they do not start identical). The watchdog bounds every wait.
  //
  // A process per rank (`world`, mpirun/srun): `comm` spans the world's processes and this trainer
  // holds only the world's own rank (replica and streams); losses, overflow flags, probes and the
  // replica check are exchanged through the world, so every process sees the same step results.
  // The world's ranks must construct and step their trainers together (collective calls).
  Trainer(Backend& backend, Communicator& comm, TrainConfig config, Watchdog watchdog = {}, World* world = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Runs one training step (accum micro-batches, one all-reduce per bucket) on every rank and
  // waits for it. With `probe` (and more than one rank) also measures the gradient norms.
  StepResult step(bool probe = false);

  // Mean loss of rank 0's replica on `count` samples of the synthetic data starting at sample
  // index `first` (a held-out set: indices no step trains on), forward only, in chunks of the
  // per-rank batch (the last chunk padded; only the set's rows count). Waits for it.
  double evaluate(std::uint64_t first, int count);

  const TrainConfig& config() const { return config_; }
  const BucketPlan& plan() const { return plan_; }
  int ranks() const { return comm_->ranks(); }
  int global_batch() const { return config_.local_batch * ranks(); }
  long long samples_per_step() const { return static_cast<long long>(global_batch()) * config_.accum; }
  // Bucket all-reduces issued (rank 0's calls; every rank issues the same), over all steps.
  std::int64_t allreduce_calls() const { return allreduce_calls_; }
  std::int64_t steps_run() const { return step_; }
  std::int64_t skipped_steps() const { return scaler_.skipped_steps(); }
  float loss_scale() const { return scaler_.scale(); }

  // Rank `rank`'s fp32 master weights in registration order (waits for the rank's streams). A
  // process per rank holds only its own rank's.
  std::vector<float> master_weights(int rank);
  // The first rank this process holds (0, or the world's rank).
  int first_local_rank() const { return rank_base_; }
  ReplicaCheck check_replicas();

 private:
  // The pieces of one rank's step; both launch modes run them.
  void upload_batch(Replica& r, int micro);
  // Backward of a micro-batch that does not synchronise (no_sync): its gradients are added to
  // the accumulation buffer.
  void backward_no_sync(Replica& r, int micro);
  // Counts `param` ready on rank r; returns the bucket this completed (its ready event recorded,
  // after adding the accumulated micro-batches and, when probing, copying it out), or -1.
  int param_ready(Replica& r, int param, bool probe);
  // Rank r's all-reduce of bucket b from r's own thread / every rank's from one thread.
  void launch_bucket_rank(Replica& r, int bucket, bool wait_ready);
  void launch_bucket_all(int bucket, bool wait_ready);
  void end_of_backward(Replica& r);
  void after_comm(Replica& r, bool probe);
  void optimizer(Replica& r);
  void step_rank(Replica& r, float grad_scale, bool probe);
  void step_single_thread(float grad_scale, bool probe);
  GradientProbe read_probe();
  // This process's ranks' summed per-sample losses of the step just waited for.
  double local_loss_sum() const;
  // The step's overflow flag, checked equal on every rank (throws when they differ).
  bool ranks_agree_on_overflow();
  ReplicaCheck check_replicas_in_world();
  // A replica's index among this process's replicas: its timeline lane and counters' index.
  int lane(const Replica& r) const { return r.rank - rank_base_; }
  void wait_all(const std::string& what);
  std::vector<Stream*> compute_streams() const;
  std::vector<Stream*> comm_streams() const;

  Backend* backend_;
  Communicator* comm_;
  World* world_ = nullptr;  // a process per rank: the job's world; null when every rank is here
  int rank_base_ = 0;       // the rank of replicas_[0]
  TrainConfig config_;
  Watchdog watchdog_;
  BucketPlan plan_;
  std::vector<ParamTensor> params_;
  std::unique_ptr<LayerPass> pass_;
  SyntheticData data_;
  LossScaler scaler_;
  // Host memory that queued copies read or write. Declared before the replicas so it outlives
  // their streams, which drain their queues when destroyed (also when a wait timed out or the
  // constructor threw).
  std::vector<float> host_init_;
  DeviceBuffer host_readback_;  // pinned: a device-to-pageable copy would block before the watchdog waits
  DeviceBuffer host_probe_big_;  // rank 0's all-reduced gradients of a probed step
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::unique_ptr<Timeline> timeline_;
  std::vector<std::vector<int>> ready_count_;  // per rank, per bucket, during backward
  std::unique_ptr<RankThreads> threads_;       // thread per rank (null for one rank or single-thread)
  std::int64_t step_ = 0;
  std::int64_t applied_steps_ = 0;  // optimizer steps actually applied (AdamW's t)
  std::int64_t allreduce_calls_ = 0;
  float step_lr_ = 0;  // the lr of the step being run
};

}  // namespace dpb
