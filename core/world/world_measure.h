// The shared stopping rule (measure/stopping.h) with a process per rank: rank 0 decides, every
// rank runs the same iterations. Before each iteration rank 0 tells the others through the world
// whether it is a warm-up or a measured one, or that the measurement ended, so every rank makes the
// same collective calls even where the rule stops on time (which differs between processes).
#pragma once
#include "measure/stopping.h"
#include "world/world.h"

namespace dpb {

// Collective. Rank 0 returns the measurement; the other ranks an empty one (their iterations'
// values are discarded: rank 0's iteration is expected to gather what it needs).
Measurement measure_in_world(World& world, const StoppingOptions& options, const IterationFn& iteration);

}  // namespace dpb
