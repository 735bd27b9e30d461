#include "collectives/communicator_env.h"

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace dpb {

namespace {
constexpr const char* kAlgo = "NCCL_ALGO";
constexpr const char* kMultiRankGpu = "NCCL_MULTI_RANK_GPU_ENABLE";

std::optional<std::string> env_value(const char* name) {
  if (const char* v = std::getenv(name)) return std::string(v);
  return std::nullopt;
}

struct UserValues {
  std::optional<std::string> algo;
  std::optional<std::string> multi_rank_gpu;
};

// Read, and both variables made present, once: the first call is the static initializer below,
// before main and so before any thread. A process-wide fact about the environment, not run state.
const UserValues& user_values_at_start() {
  static const UserValues values = [] {
    UserValues v{env_value(kAlgo), env_value(kMultiRankGpu)};
    ensure_env_exists(kAlgo);
    ensure_env_exists(kMultiRankGpu);
    return v;
  }();
  return values;
}

[[maybe_unused]] const bool prepared_before_main = (user_values_at_start(), true);

}  // namespace

ScopedEnvValue::ScopedEnvValue(const char* name, const std::string& value) : name_(name) {
  const char* old = std::getenv(name);
  if (!old) {
    throw std::logic_error(std::string(name) + " is not in the environment: it must exist from process start "
                           "(ensure_env_exists), since adding it now could race another thread's getenv");
  }
  previous_ = old;
  if (::setenv(name, value.c_str(), 1) != 0) {
    throw std::runtime_error(std::string("setenv(") + name + ") failed: out of memory");
  }
}

ScopedEnvValue::~ScopedEnvValue() { (void)::setenv(name_, previous_.c_str(), 1); }

void ensure_env_exists(const char* name) {
  if (!std::getenv(name)) (void)::setenv(name, "", 0);
}

bool nccl_int_param_on(const std::string& value) {
  if (value.empty()) return false;
  errno = 0;
  const long long v = std::strtoll(value.c_str(), nullptr, 0);
  return errno == 0 && v != 0;  // NCCL falls back to the default (0) on a conversion error
}

NcclInitEnvironment::NcclInitEnvironment(std::optional<std::string> user_algo,
                                         std::optional<std::string> user_multi_rank_gpu)
    : user_algo_(user_algo.value_or("")), user_multi_(user_multi_rank_gpu.value_or("")) {}

NcclInitValues NcclInitEnvironment::values_for(const std::string& algorithm, bool multi_rank_gpu) const {
  NcclInitValues v = resting();
  if (algorithm == "ring") {
    v.algo = "Ring";
  } else if (algorithm == "tree") {
    v.algo = "Tree";
  } else if (algorithm != "auto") {
    throw std::invalid_argument("nccl-" + algorithm + ": not an NCCL algorithm (expected ring, tree or auto)");
  }
  if (multi_rank_gpu) {
    if (multi_cached_ && !*multi_cached_) {
      throw std::invalid_argument(
          "nccl: several ranks on one GPU need NCCL_MULTI_RANK_GPU_ENABLE=1, but NCCL reads that setting once per "
          "process and an earlier communicator of this run already fixed it to off: run the points with repeated "
          "devices in a dpbench run of their own (or set NCCL_MULTI_RANK_GPU_ENABLE=1 before starting dpbench)");
    }
    v.multi_rank_gpu = "1";
  }
  return v;
}

void NcclInitEnvironment::initialised_with(const NcclInitValues& values) {
  if (!multi_cached_) multi_cached_ = nccl_int_param_on(values.multi_rank_gpu);
}

NcclInitValues NcclInitEnvironment::resting() const { return {user_algo_, user_multi_}; }

void run_nccl_init(const std::string& algorithm, bool multi_rank_gpu, const std::function<void()>& init) {
  // One lock and one record for the process, because the environment and NCCL's parameter cache
  // they guard are process-wide themselves.
  static std::mutex init_lock;
  static NcclInitEnvironment environment(user_values_at_start().algo, user_values_at_start().multi_rank_gpu);
  std::lock_guard lock(init_lock);
  const NcclInitValues values = environment.values_for(algorithm, multi_rank_gpu);
  const ScopedEnvValue algo(kAlgo, values.algo);
  const ScopedEnvValue multi(kMultiRankGpu, values.multi_rank_gpu);
  try {
    init();
  } catch (...) {
    environment.initialised_with(values);  // NCCL may have read and cached it before failing
    throw;
  }
  environment.initialised_with(values);
}

}  // namespace dpb
