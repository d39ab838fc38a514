# Shared set-up of the GPU suite (tests/gpu/run.sh runs each case): the
# multi-rank helpers of tests/mpi/lib.sh, with the workers on the GPU.
source "$(dirname "${BASH_SOURCE[0]}")/../mpi/lib.sh"
# A CUDA build puts every worker on a GPU (worker i on GPU i mod count); these
# tests also check the log says so (GPU_SUITE_DEVICE=cpu dry-runs the scripts on a CPU build).
expect_on_gpu() {  # expect_on_gpu LOG
  grep -q "precision on ${GPU_SUITE_DEVICE:-cuda}" "$1" || { cat "$1"; fail "the workers did not compute on the GPU"; }
}
