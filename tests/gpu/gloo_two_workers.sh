#!/usr/bin/env bash
# Two workers on one GPU (NCCL refuses two ranks on one device, so Gloo
# reduces the CUDA tensors): the 2-worker run ends with the weights of the
# 1-worker run with the same global batch, as on the CPU (tests/mpi/equivalence.sh).
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" <<< ""
for workers in 1 2; do  # batch_size is per worker: 16 on one, 8 on each of two
  run_job "$workers" "$WORK/job.yaml" --set run_dir="$WORK/w$workers" --set runtime.backend=gloo \
    --set training.batch_size=$((16 / workers)) \
    --set runtime.gradient_bucket_mb=0.002 --set sparsity.enabled=false > "$WORK/w$workers.log" 2>&1 \
    || { cat "$WORK/w$workers.log"; fail "$workers-worker job"; }
  expect_on_gpu "$WORK/w$workers.log"
done
grep -q "gloo group, gradients: c10d Reducer" "$WORK/w2.log" || { cat "$WORK/w2.log"; fail "2 workers: no bucketed Gloo sync"; }
compare "$WORK/w2/checkpoints/latest/model.safetensors" "$WORK/w1/checkpoints/latest/model.safetensors" \
  --atol 2e-5 || fail "2 workers on one GPU differ from 1"
echo "PASS gloo_two_workers"
