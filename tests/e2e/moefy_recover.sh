#!/usr/bin/env bash
# MoEfication of a language model trained here, then recovery by
# distillation from the dense model (docs/sparsity.md#moefication): the
# man-page decoder of prune_recover.sh (2 layers, 192 FFN neurons) becomes 8
# experts of 24 neurons per FFN with top-2 routing (a token uses about 30% of
# the FFN parameters, routers included) on 128 calibration sequences. Splitting
# by co-activation must beat a random split of the neurons with the same
# routers (held-out perplexity), as the paper reports; then the routed model
# is distilled from the dense one for 300 steps, routers fixed: it must win
# back at least half of the perplexity the routing cost.
source "$(dirname "$0")/../mpi/lib.sh"         # SRC, BIN, PY, WORK, run_job, fail
source "$(dirname "$0")/lib.sh"                # man_lm, moefy_and_recover
man_lm
moefy_and_recover "$WORK/runs/dense/model/model.pt" "the built-in decoder"
echo "PASS moefy_recover"
