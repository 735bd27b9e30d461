// One rank's model replica: its streams, model kernels and device buffers. Every per-parameter
// buffer uses the bucket plan's flat layout (core/train/bucket.h), so the gradient buffer IS the
// bucket memory (gradient_as_bucket_view) and the optimizer runs once over all parameters.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "device/backend.h"
#include "train/bucket.h"
#include "device/model_ops.h"
#include "train/train_config.h"

namespace dpb {

struct Replica {
  // Allocates everything for `config` on `device` (zero-filled where it matters). Throws
  // DeviceError (e.g. out of memory) on failure.
  Replica(Backend& backend, int rank, int device, const TrainConfig& config, const BucketPlan& plan);

  int rank = 0;
  int device = 0;

  DeviceBuffer master;   // fp32 master weights (flat layout)
  DeviceBuffer weights;  // low-precision copy; empty for fp32 (the master is the weight)
  DeviceBuffer grads;    // gradients of the precision's type, bucket by bucket
  DeviceBuffer state1, state2;  // optimizer state (fp32); state2 only for AdamW

  DeviceBuffer accum_grads;  // --accum > 1: the earlier micro-batches' gradient sum (flat layout)
  DeviceBuffer comm_grads;   // comm dtype != precision: the cast gradients (flat layout)

  DeviceBuffer input;     // [batch, input] of the precision's type
  DeviceBuffer labels;    // [accum][batch] int32
  DeviceBuffer row_loss;  // [accum][batch] fp32 (the last layer's rows of each micro-batch)
  DeviceBuffer skip_flag; // one fp32: nonzero when the step's gradients overflowed
  // Per layer (model_spec.h's chain): x the resampled input [rows, in] (empty when the layer reads
  // the previous output directly), z the output before the activation [rows, out] (the last is
  // the logits), a the activation (empty without one: a is z), s attention's scores.
  std::vector<DeviceBuffer> x, z, a, s;
  DeviceBuffer grad_ping, grad_pong;  // dL/da and dL/dz, the largest layer input or output
  DeviceBuffer att_ds, att_g;         // attention backward scratch: [seq, seq] and [seq, head_dim]

  std::vector<std::unique_ptr<Event>> bucket_ready;  // compute -> comm, one per bucket
  std::unique_ptr<Event> backward_done, comm_done;

  // Host staging in pinned memory (Backend::allocate_pinned), so the step's copies never block the
  // host before the watchdog waits; it must outlive the copies it feeds (the trainer waits every
  // step). Input in the precision's type [batch, input], labels int32 [batch], loss fp32 [batch],
  // skip flag one fp32.
  DeviceBuffer host_input, host_labels, host_loss, host_skip_flag;  // input/labels: one per micro-batch
  DeviceBuffer host_probe;  // gradient noise probe: the gradients before the all-reduce (flat layout)

  // The layer's input: the resampled buffer, the previous activation or the data.
  const void* layer_input(int layer) const;
  void* layer_output(int layer) const;  // a, or z without an activation

  // Declared after the buffers and events their queued work uses, so they are destroyed first:
  // a cpu stream drains its queue when destroyed, and that work must still find its memory.
  std::unique_ptr<Stream> compute;  // forward, backward, optimizer
  std::unique_ptr<Stream> comm;     // bucket all-reduces
  std::unique_ptr<ModelOps> ops;

  std::size_t input_bytes = 0, label_bytes = 0;  // one micro-batch's host staging
  // Pointer to the layout's weights of the precision's type.
  void* weights_ptr() const { return weights ? weights.data() : master.data(); }
};

}  // namespace dpb
