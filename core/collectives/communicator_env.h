// The process environment NCCL reads at communicator init, and how dpbench changes it without
// racing the threads that read it.
//
// Why the environment at all: NCCL takes the algorithm only from NCCL_ALGO, read with getenv at
// every communicator init (graph/tuning.cc, ncclTopoTuneModel; ncclConfig_t has no algorithm
// field), so nccl-ring / nccl-tree must set it around their init. NCCL_MULTI_RANK_GPU_ENABLE
// (NCCL >= 2.30) is an integer parameter: NCCL reads it once and caches it for the process.
//
// Why changing it is delicate: setenv/unsetenv are not thread-safe against getenv, and other
// threads do call getenv while dpbench changes the variable: rank threads inside ncclAllReduce
// (NCCL 2.28 enqueue.cc asks ncclGetEnv("NCCL_ALGO") on every collective for its CTA policy) and
// the proxy threads of cached communicators. With glibc, what races is the environ ARRAY:
// adding a variable may realloc it (a concurrent getenv then walks freed memory) and unsetenv
// shifts its entries (a concurrent getenv may miss any variable). Replacing the value of a
// variable that already exists only stores a new "NAME=value" pointer into its existing slot,
// and glibc never frees the old string (setenv.c keeps every value it made), so a concurrent
// getenv sees the old or the new value, both valid.
//
// Hence the rules here: (1) both variables exist from process start, added before main (a static
// initializer, before any thread) with an empty value where the user set none; (2) afterwards
// they are only ever replaced, never added or removed; (3) every NCCL init of the process runs
// through run_nccl_init, one at a time, so no two inits see each other's values.
//
// An empty value means NCCL's own choice: NCCL 2.28's parseList("") enables every algorithm
// (strtok_r finds no token, the all-enabled defaults stay), and ncclLoadParam treats an empty
// integer parameter as unset (strlen(str) > 0 is required). The one visible difference: with
// NCCL_DEBUG=INFO, NCCL logs "NCCL_ALGO set by environment to " (empty) at init, and its
// NCCL_CTA_POLICY_EFFICIENCY path (which dpbench does not select) sees NCCL_ALGO as set.
#pragma once
#include <functional>
#include <optional>
#include <string>

namespace dpb {

// Replaces the value of environment variable `name` for the guard's lifetime, then puts the
// previous value back; never adds or removes the variable. Throws std::logic_error when `name`
// is not in the environment (adding it now could race a getenv on another thread).
class ScopedEnvValue {
 public:
  ScopedEnvValue(const char* name, const std::string& value);
  ~ScopedEnvValue();
  ScopedEnvValue(const ScopedEnvValue&) = delete;
  ScopedEnvValue& operator=(const ScopedEnvValue&) = delete;

 private:
  const char* name_;
  std::string previous_;
};

// Adds `name` with an empty value when it is absent; keeps a present value. Only safe while no
// other thread reads the environment (process start).
void ensure_env_exists(const char* name);

struct NcclInitValues {
  std::string algo;            // NCCL_ALGO during the init
  std::string multi_rank_gpu;  // NCCL_MULTI_RANK_GPU_ENABLE during the init
};

// The values NCCL is shown at each init, decided from the user's values at process start and
// what NCCL has already cached. Pure logic (tests run it without NCCL).
class NcclInitEnvironment {
 public:
  // The user's values at process start; nullopt where unset.
  NcclInitEnvironment(std::optional<std::string> user_algo, std::optional<std::string> user_multi_rank_gpu);

  // For an init of nccl-`algorithm` ("ring", "tree", "auto"): ring/tree force "Ring"/"Tree"; auto
  // keeps the user's NCCL_ALGO ("" when none: NCCL's own choice). multi_rank_gpu shows "1", else
  // the user's value. Throws std::invalid_argument when multi_rank_gpu is wanted but an earlier
  // init already made NCCL cache NCCL_MULTI_RANK_GPU_ENABLE as off for this process.
  NcclInitValues values_for(const std::string& algorithm, bool multi_rank_gpu) const;
  // Records that an init ran with `values` (NCCL caches the integer parameter at the first one).
  void initialised_with(const NcclInitValues& values);
  // The values between inits: the user's, or "".
  NcclInitValues resting() const;

 private:
  std::string user_algo_;
  std::string user_multi_;
  std::optional<bool> multi_cached_;  // what NCCL cached at the first init, once one ran
};

// Whether NCCL reads `value` of an integer parameter as non-zero (ncclLoadParam: empty = default 0,
// else strtoll base 0).
bool nccl_int_param_on(const std::string& value);

// Runs `init` (an ncclCommInit* call) with NCCL_ALGO and NCCL_MULTI_RANK_GPU_ENABLE set for
// nccl-`algorithm`, holding the process's one NCCL-init lock; restores the resting values after,
// also when `init` throws. Every NCCL communicator init of dpbench goes through here.
void run_nccl_init(const std::string& algorithm, bool multi_rank_gpu, const std::function<void()>& init);

}  // namespace dpb
