// The MPI World (world.h): MPI_Init_thread at construction, MPI_Finalize at destruction; every
// call checked, an error thrown with the call and MPI's error text.
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "device/cpu_elementwise.h"
#include "world/world.h"

namespace dpb {

namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(len)));
}
#define DPB_MPI(call) check((call), #call)

// Sums of 16-bit floats through the shared element math (MPI has no fp16/bf16 type).
template <DType T>
void sum16(void* in, void* inout, int* len, MPI_Datatype*) {
  cpu::reduce_add(T, inout, in, static_cast<std::size_t>(*len));
}

class MpiWorld final : public World {
 public:
  MpiWorld() {
    int initialized = 0;
    DPB_MPI(MPI_Initialized(&initialized));
    if (initialized) throw std::logic_error("open_mpi_world: MPI is already initialised in this process");
    int provided = 0;
    DPB_MPI(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided));
    if (provided < MPI_THREAD_SERIALIZED) {
      MPI_Finalize();
      throw std::runtime_error("MPI provides thread level " + std::to_string(provided) +
                               "; dpbench needs at least MPI_THREAD_SERIALIZED");
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    DPB_MPI(MPI_Comm_dup(MPI_COMM_WORLD, &comm_));
    DPB_MPI(MPI_Comm_rank(comm_, &rank_));
    DPB_MPI(MPI_Comm_size(comm_, &size_));
    DPB_MPI(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_));
    DPB_MPI(MPI_Comm_rank(node_, &local_rank_));
    DPB_MPI(MPI_Comm_size(node_, &local_size_));
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int len = 0;
    DPB_MPI(MPI_Get_processor_name(name, &len));
    hosts_ = all_gather(std::string(name, static_cast<std::size_t>(len)));
    DPB_MPI(MPI_Type_contiguous(2, MPI_BYTE, &half_));
    DPB_MPI(MPI_Type_commit(&half_));
    DPB_MPI(MPI_Op_create(&sum16<DType::f16>, 1, &sum_f16_));
    DPB_MPI(MPI_Op_create(&sum16<DType::bf16>, 1, &sum_bf16_));
  }
  ~MpiWorld() override {
    // Unwinding from an error only this rank may have hit: the others may be waiting in a
    // collective, and MPI_Finalize would wait with them. Exiting without it makes the launcher
    // (mpirun, srun) end the job, after the error has been printed.
    if (std::uncaught_exceptions() > 0) return;
    MPI_Op_free(&sum_f16_);
    MPI_Op_free(&sum_bf16_);
    MPI_Type_free(&half_);
    MPI_Comm_free(&node_);
    MPI_Comm_free(&comm_);
    MPI_Finalize();
  }
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  const std::vector<std::string>& hosts() const override { return hosts_; }
  std::string library() const override {
    char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int len = 0;
    MPI_Get_library_version(text, &len);
    std::string s(text, static_cast<std::size_t>(len));
    if (auto cut = s.find_first_of(",\n"); cut != std::string::npos) s.resize(cut);
    int major = 0, minor = 0;
    MPI_Get_version(&major, &minor);
    return "MPI " + std::to_string(major) + "." + std::to_string(minor) + ", " + s;
  }

  void barrier() override { DPB_MPI(MPI_Barrier(comm_)); }

  void broadcast(std::string& data, int root) override {
    unsigned long long n = data.size();
    DPB_MPI(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, comm_));
    data.resize(static_cast<std::size_t>(n));
    if (n) DPB_MPI(MPI_Bcast(data.data(), static_cast<int>(n), MPI_BYTE, root, comm_));
  }

  std::vector<std::string> all_gather(const std::string& data) override {
    const int mine = static_cast<int>(data.size());
    std::vector<int> lengths(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    DPB_MPI(MPI_Allgather(&mine, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm_));
    int total = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      offsets[r] = total;
      total += lengths[r];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    DPB_MPI(MPI_Allgatherv(data.data(), mine, MPI_BYTE, all.data(), lengths.data(), offsets.data(), MPI_BYTE, comm_));
    std::vector<std::string> out;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
    }
    return out;
  }

  double all_reduce_max(double value) override {
    double out = 0;
    DPB_MPI(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, comm_));
    return out;
  }
  std::uint64_t all_reduce_sum(std::uint64_t value) override {
    unsigned long long in = value, out = 0;
    DPB_MPI(MPI_Allreduce(&in, &out, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm_));
    return out;
  }

  void allreduce_host(DType type, void* data, std::size_t count) override {
    // MPI counts are int: large messages go in pieces of at most 1 Gi elements.
    constexpr std::size_t kPiece = std::size_t{1} << 30;
    auto* bytes = static_cast<char*>(data);
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(kPiece, count - done);
      void* p = bytes + done * dtype_size(type);
      if (type == DType::f32) {
        DPB_MPI(MPI_Allreduce(MPI_IN_PLACE, p, static_cast<int>(n), MPI_FLOAT, MPI_SUM, comm_));
      } else {
        DPB_MPI(MPI_Allreduce(MPI_IN_PLACE, p, static_cast<int>(n), half_, type == DType::f16 ? sum_f16_ : sum_bf16_,
                              comm_));
      }
      done += n;
    }
  }

  [[noreturn]] void abort_job(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Comm node_ = MPI_COMM_NULL;
  MPI_Datatype half_ = MPI_DATATYPE_NULL;
  MPI_Op sum_f16_ = MPI_OP_NULL, sum_bf16_ = MPI_OP_NULL;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::vector<std::string> hosts_;
};

}  // namespace

bool mpi_compiled_in() { return true; }

std::unique_ptr<World> open_mpi_world() { return std::make_unique<MpiWorld>(); }

}  // namespace dpb
