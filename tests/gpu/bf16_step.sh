#!/usr/bin/env bash
# bf16 on the GPU follows the fp32 trajectory: the same job in bf16 ends
# within 15% of how far fp32 moved the weights (the CPU suite's bound,
# tests/mpi/gradient_sync.sh), and fp16 with loss scaling does too.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" <<< ""
for precision in fp32 bf16 fp16; do
  run_job 1 "$WORK/job.yaml" --set run_dir="$WORK/$precision" --set runtime.precision=$precision \
    --set sparsity.enabled=false --set training.max_steps=10 > "$WORK/$precision.log" 2>&1 \
    || { cat "$WORK/$precision.log"; fail "$precision job"; }
  expect_on_gpu "$WORK/$precision.log"
  grep -q "worker 0: $precision precision" "$WORK/$precision.log" || fail "$precision: not reported"
done
for precision in bf16 fp16; do
  "$PY" "$SRC/tests/tools/trajectory_gap.py" "$WORK/student.pt" "$WORK/fp32/checkpoints/latest/model.safetensors" \
    "$WORK/$precision/checkpoints/latest/model.safetensors" --max 0.15 || fail "$precision left the fp32 trajectory"
done
echo "PASS bf16_step"
