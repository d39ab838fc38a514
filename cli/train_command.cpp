// `distill train CONFIG [--set a.b=c]... [--resume]`: one job, under mpirun.
// Rank 0 is the coordinator, ranks 1..N are workers (DESIGN.md section 1).
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <thread>

#include "cli/commands.h"
#include "common/config_checks.h"
#include "common/config_loader.h"
#include "common/error.h"
#include "common/log.h"
#include "control/mpi_channel.h"
#include "coordinator/coordinator.h"
#include "trainer/comm/worker_group.h"
#include "trainer/worker.h"

namespace distill::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false;
};

int runCoordinator(const config::JobConfig& cfg, const TrainArgs& args, control::MpiChannel& channel) {
  coordinator::CoordinatorOptions options;
  options.resume = args.resume;
  options.config_yaml = config::toYaml(cfg);
  const int workers = channel.size() - 1;
  coordinator::Coordinator coordinator(cfg, options, channel, [workers](uint16_t port, uint16_t* bound) {
    return comm::startStoreServer(port, bound, workers);
  });
  return coordinator.run();
}

int runWorker(const config::JobConfig& cfg, control::MpiChannel& channel) {
  const control::Bootstrap boot = control::broadcastBootstrap({});
  const int worker = channel.rank() - 1;
  trainer::Worker w(cfg, boot, channel, worker);
  try {
    w.run();
  } catch (const std::exception& e) {
    // The coordinator names this worker and aborts the whole job; wait for that.
    w.reportFailure(e.what());
    std::this_thread::sleep_for(std::chrono::seconds(30));
    log::error(e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 0;
}

int train(const TrainArgs& args) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  log::setPrefix(rank == 0 ? "coordinator" : "worker " + std::to_string(rank - 1));

  // Every rank reads the same config, so a bad config fails on all of them
  // alike; rank 0 says why and all leave cleanly.
  config::JobConfig cfg;
  try {
    cfg = config::loadJobConfig(args.config, args.overrides);
    config::throwIfInvalid(cfg, args.config);
  } catch (const Error& e) {
    if (rank == 0) log::error(e.what());
    MPI_Finalize();
    return kExitBadInput;
  }

  int code = 0;
  control::MpiChannel channel;
  if (rank == 0) {
    try {
      code = runCoordinator(cfg, args, channel);
    } catch (const std::exception& e) {
      log::error(e.what());
      MPI_Abort(MPI_COMM_WORLD, kExitBadInput);
    }
  } else {
    code = runWorker(cfg, channel);
  }
  MPI_Finalize();
  return code;
}

}  // namespace

void addTrain(CLI::App& app, Run& run) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Run a job under mpirun: rank 0 coordinates, ranks 1..N train");
  cmd->add_option("config", args->config, "YAML job config")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", args->overrides, "Override a config field: a.b=c (repeatable)");
  cmd->add_flag("--resume", args->resume, "Continue from <run_dir>/checkpoints/latest when it exists");
  cmd->callback([args, &run] { run = [args] { return train(*args); }; });
}

}  // namespace distill::cli
