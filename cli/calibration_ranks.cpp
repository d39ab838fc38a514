#include "cli/calibration_ranks.h"

#include <mpi.h>

#include <filesystem>

#include "common/error.h"
#include "common/exit_codes.h"
#include "common/files.h"
#include "common/log.h"
#include "trainer/data/tensor_io.h"

namespace distill::cli {

std::vector<uint64_t> CalibrationRanks::samples(uint64_t total, const std::string& what) const {
  DISTILL_CHECK(total >= static_cast<uint64_t>(size), what, ": ", total, " samples for ", size,
                " ranks; every rank needs one");
  std::vector<uint64_t> mine;
  for (uint64_t i = static_cast<uint64_t>(rank); i < total; i += static_cast<uint64_t>(size)) mine.push_back(i);
  return mine;
}

int runOnRanks(const std::string& command, int threads, const std::function<void(const CalibrationRanks&)>& body) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  CalibrationRanks ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &ranks.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks.size);
  if (ranks.size > 1) log::setPrefix(command + " rank " + std::to_string(ranks.rank));
  ranks.collective.root = ranks.root();
  ranks.collective.sum = [](torch::Tensor& t) {
    DISTILL_ASSERT(t.is_contiguous() && t.scalar_type() == torch::kFloat64);
    MPI_Allreduce(MPI_IN_PLACE, t.data_ptr<double>(), static_cast<int>(t.numel()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  };
  ranks.collective.broadcast = [](torch::Tensor& t) {
    DISTILL_ASSERT(t.is_contiguous() && t.scalar_type() == torch::kFloat);
    MPI_Bcast(t.data_ptr<float>(), static_cast<int>(t.numel()), MPI_FLOAT, 0, MPI_COMM_WORLD);
  };
  int code = 0;
  try {
    at::set_num_threads(threads);
    body(ranks);
  } catch (const Error& e) {  // bad input: model, data, options
    log::error(e.what());
    code = kExitBadInput;
    if (ranks.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  } catch (const std::exception& e) {
    log::error(e.what());
    code = 1;
    if (ranks.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  }
  MPI_Finalize();
  return code;
}

void writeModel(const std::string& dir, torch::jit::Module& module) {
  namespace fs = std::filesystem;
  files::makeDirs(dir);
  const fs::path out(dir);
  module.save((out / "model.pt.tmp").string());
  fs::rename(out / "model.pt.tmp", out / "model.pt");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : module.named_parameters()) tensors.emplace_back(p.name, p.value.detach());
  for (const auto& b : module.named_buffers()) tensors.emplace_back(b.name, b.value.detach());
  data::saveTensors((out / "model.safetensors").string(), tensors);
}

}  // namespace distill::cli
