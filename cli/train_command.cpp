// `distill train CONFIG [--set a.b=c]... [--resume]`: one job, under mpirun.
// Rank 0 is the coordinator, ranks 1..N are workers (DESIGN.md section 1);
// with --teacher-ranks P the last P ranks serve the teachers (placement pool).
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "common/config_checks.h"
#include "common/config_loader.h"
#include "common/error.h"
#include "common/launch_env.h"
#include "common/log.h"
#include "common/teacher_placement.h"
#include "control/mpi_channel.h"
#include "coordinator/coordinator.h"
#include "trainer/comm/worker_group.h"
#include "trainer/teacher_rank.h"
#include "trainer/worker.h"

namespace distill::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false;
  bool teacher_pass_only = false;  // distill cache-teachers
  int teacher_ranks = 0;           // the last ranks serve teachers (placement pool)
};

int runCoordinator(const config::JobConfig& cfg, const TrainArgs& args, control::MpiChannel& channel) {
  coordinator::CoordinatorOptions options;
  options.resume = args.resume;
  options.config_yaml = config::toYaml(cfg);
  options.teacher_pass_only = args.teacher_pass_only;
  options.teacher_ranks = args.teacher_ranks;
  const int workers = channel.size() - 1 - args.teacher_ranks;
  coordinator::Coordinator coordinator(cfg, options, channel, [workers](uint16_t port, uint16_t* bound) {
    return comm::startStoreServer(port, bound, workers);
  });
  return coordinator.run();
}

// Where this rank sits: its index among the workers of its node (the
// coordinator is not a worker), which picks the GPU, and whether the whole job
// is on one node (then the data plane can use loopback). Collective over MPI_COMM_WORLD.
trainer::Placement placement(int world_rank) {
  MPI_Comm role = MPI_COMM_NULL, node = MPI_COMM_NULL, world_node = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank == 0 ? 0 : 1, world_rank, &role);
  MPI_Comm_split_type(role, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node);
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &world_node);
  int local = 0, node_size = 0, world_size = 0;
  MPI_Comm_rank(node, &local);
  MPI_Comm_size(world_node, &node_size);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  int one_node = node_size == world_size ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &one_node, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Comm_free(&world_node);
  MPI_Comm_free(&node);
  MPI_Comm_free(&role);
  return {world_rank - 1, local, one_node == 1};
}

int runWorker(const config::JobConfig& cfg, control::MpiChannel& channel, const trainer::Placement& where) {
  // Stop signals reach every rank (mpirun forwards SIGUSR1, Slurm signals all
  // tasks); only the coordinator acts on them, by stopping all workers at one
  // step with a checkpoint.
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGUSR1, SIG_IGN);
  const control::Bootstrap boot = control::broadcastBootstrap({});
  trainer::Worker w(cfg, boot, channel, where);
  try {
    w.run();
  } catch (const std::exception& e) {
    // The coordinator names this worker and aborts the whole job; wait for that.
    w.reportFailure(e.what(), dynamic_cast<const Error*>(&e) != nullptr);
    std::this_thread::sleep_for(std::chrono::seconds(30));
    log::error(e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 0;
}

int runTeacherRank(const config::JobConfig& cfg, control::MpiChannel& channel, const trainer::Placement& where) {
  std::signal(SIGTERM, SIG_IGN);  // the coordinator stops the job (runWorker)
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGUSR1, SIG_IGN);
  const control::Bootstrap boot = control::broadcastBootstrap({});
  trainer::TeacherRank server(cfg, boot, channel, where);
  try {
    server.run();
  } catch (const std::exception& e) {
    server.reportFailure(e.what(), dynamic_cast<const Error*>(&e) != nullptr);
    std::this_thread::sleep_for(std::chrono::seconds(30));
    log::error(e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 0;
}

int train(const TrainArgs& args) {
  const LaunchEnv launch = LaunchEnv::detect();
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  // A launcher that starts N separate one-rank jobs (srun without --mpi=pmix)
  // shows up here: its environment says rank r of N, MPI says 0 of 1.
  if (launch.source != "none" && (launch.rank != rank || launch.world_size != size)) {
    if (launch.rank == 0) {
      log::error("the launcher (", launch.source, ") started rank ", launch.rank, " of ", launch.world_size,
                 ", but MPI sees rank ", rank, " of ", size, ": under Slurm use srun --mpi=pmix");
    }
    MPI_Finalize();
    return kExitBadInput;
  }
  const int workers = size - 1 - args.teacher_ranks;
  const bool teacher_rank = rank > workers;
  log::setPrefix(rank == 0      ? "coordinator"
                 : teacher_rank ? "teacher rank " + std::to_string(rank)
                                : "worker " + std::to_string(rank - 1));

  // Rank 0 alone reads and checks the config (a large YAML costs one parse,
  // not one per rank) and broadcasts it as its protobuf; when it refuses the
  // config it says why and every rank leaves cleanly.
  config::JobConfig cfg;
  std::optional<std::string> checked;
  if (rank == 0) {
    try {
      std::vector<std::string> overrides = args.overrides;
      if (args.teacher_pass_only) overrides.push_back("distill.placement=cache");
      cfg = config::loadJobConfig(args.config, overrides);
      config::throwIfInvalid(cfg, args.config);
      DISTILL_CHECK(!args.teacher_pass_only || cfg.distill().teachers_size() > 0, args.config,
                    ": distill.teachers is empty: there is nothing to cache");
      const std::string pool = placement::poolProblem(cfg, args.teacher_ranks, workers);
      DISTILL_CHECK(pool.empty(), args.config, ": ", pool);
      checked = cfg.SerializeAsString();
    } catch (const Error& e) {
      log::error(e.what());
    }
  }
  checked = control::broadcastBytes(checked);
  if (!checked) {
    MPI_Finalize();
    return kExitBadInput;
  }
  if (rank != 0) DISTILL_ASSERT(cfg.ParseFromString(*checked), "the job config broadcast by rank 0 did not parse");

  int code = 0;
  const trainer::Placement where = placement(rank);
  {  // the channel's pending sends must be gone before MPI_Finalize
    control::MpiChannel channel;
    if (rank == 0) {
      try {
        code = runCoordinator(cfg, args, channel);
      } catch (const std::exception& e) {
        log::error(e.what());
        MPI_Abort(MPI_COMM_WORLD, kExitBadInput);
      }
    } else if (teacher_rank) {
      code = runTeacherRank(cfg, channel, where);
    } else {
      code = runWorker(cfg, channel, where);
    }
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
  cmd->add_option("--teacher-ranks", args->teacher_ranks,
                  "The last P ranks hold the teachers and serve their outputs to the workers (placement pool)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, &run] { run = [args] { return train(*args); }; });

  auto cache_args = std::make_shared<TrainArgs>();
  cache_args->teacher_pass_only = true;
  auto* cache = app.add_subcommand(
      "cache-teachers", "Under mpirun: only the teacher pass of a job (distill.placement: cache), no training");
  cache->add_option("config", cache_args->config, "YAML job config")->required()->check(CLI::ExistingFile);
  cache->add_option("--set", cache_args->overrides, "Override a config field: a.b=c (repeatable)");
  cache->callback([cache_args, &run] { run = [cache_args] { return train(*cache_args); }; });
}

}  // namespace distill::cli
