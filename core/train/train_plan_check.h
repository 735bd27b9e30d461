// Up-front memory check of a training sweep: a point whose replica cannot fit on its devices is
// refused before the first point runs (SettingError "model" or "batch"; bench/ names the flag).
#pragma once
#include <cstddef>
#include <vector>

#include "device/backend.h"
#include "train/train_point.h"

namespace dpb {

// A lower bound of the device memory one rank of `spec` allocates (train/replica.cpp): fp32 master
// weights, working weights (16-bit precisions), gradients, optimizer state, and the activations
// of its batch. The communicator's scratch and bucket views come on top.
std::size_t train_rank_memory_bytes(const TrainPointSpec& spec);

// Checks every point of `specs`; the parameters' share names "model", the activations' "batch".
void check_train_plan(const Backend& backend, const std::vector<TrainPointSpec>& specs);

}  // namespace dpb
