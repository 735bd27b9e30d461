// Forward and backward of the model's layer chain (core/train/model_spec.h says what each layer
// computes) on one replica, enqueued on its compute stream. Both launch modes and the held-out
// evaluation run these; the trainer owns the step around them (data, buckets, update).
#pragma once
#include <cstddef>
#include <functional>

#include "train/bucket.h"
#include "train/replica.h"
#include "train/train_config.h"

namespace dpb {

class LayerPass {
 public:
  // Checks the chain against the batch (shift views, sequence multiples); throws
  // std::invalid_argument naming --batch or --model.
  LayerPass(const TrainConfig& config, const BucketPlan& plan);

  // Forward of micro-batch `micro` (its input already in r.input, labels at r.labels + micro *
  // batch), then the loss: row losses at r.row_loss + micro * batch, dlogits * grad_scale in
  // r.grad_ping.
  void forward(Replica& r, int micro, float grad_scale) const;

  // Backward of layer `layer`: on entry `cur` holds dL/d(output); every parameter gradient the
  // layer owns is written into `grads` (the flat layout) and announced with ready(param) right
  // after its kernel is enqueued; on exit `cur` holds dL/d(previous output) (layer > 0).
  void backward(Replica& r, int layer, void* grads, void*& cur, void*& other,
                const std::function<void(int)>& ready) const;

  long long rows(int layer) const;  // rows of layer `layer` at the local batch
  long long last_rows() const { return rows(static_cast<int>(config_->model.chain.size()) - 1); }

 private:
  char* param(void* base, int p) const;
  void resample(Replica& r, const void* src, std::size_t n, void* dst, std::size_t m) const;
  void fold(Replica& r, const void* src, std::size_t m, void* dst, std::size_t n) const;
  void attention_forward(Replica& r, int layer) const;
  void attention_backward(Replica& r, int layer, const void* dy, void* dx) const;
  std::size_t output_count(int layer) const;  // elements of layer's output (-1: the data input)

  const TrainConfig* config_;
  const BucketPlan* plan_;
  std::size_t es_;
};

}  // namespace dpb
