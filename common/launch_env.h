// Where this process sits in a launch, read from the environment before MPI
// starts: OpenMPI's OMPI_COMM_WORLD_* first, then Slurm's SLURM_PROCID /
// SLURM_LOCALID / SLURM_NTASKS, then plain RANK / LOCAL_RANK / WORLD_SIZE.
// This is the one place that knows those names. Under mpirun or srun --mpi=pmix
// MPI agrees with it; `distill train` checks that it does.
//
//   const LaunchEnv env = LaunchEnv::detect();   // env.source == "openmpi"
#pragma once

#include <functional>
#include <string>

namespace distill {

struct LaunchEnv {
  int rank = 0;
  int local_rank = 0;
  int world_size = 1;
  std::string source = "none";  // openmpi | slurm | env | none

  // `getenv` is injectable for tests. A present but malformed value is a
  // distill::Error naming the variable.
  static LaunchEnv detect(const std::function<const char*(const char*)>& getenv = nullptr);
};

}  // namespace distill
