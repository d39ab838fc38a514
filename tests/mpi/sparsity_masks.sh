#!/usr/bin/env bash
# Masks are shared state: 3 workers with batch b derive bitwise the same masks
# as 1 worker with batch 3b, for gradient-based criteria (their statistics come
# from the all-reduced gradient), structured granularities, PST,
# Child-Tuning_D and the nested levels of sparsity.levels. Dropout is off, so
# both runs see the same global gradient.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null

check() {  # check NAME --set ...
  local name="$1"; shift
  run_job 3 "$WORK/job.yaml" --set run_dir="$WORK/$name-3" --set training.max_steps=12 "$@" \
    > "$WORK/$name-3.log" 2>&1 || { cat "$WORK/$name-3.log"; fail "$name: 3-worker run"; }
  run_job 1 "$WORK/job.yaml" --set run_dir="$WORK/$name-1" --set training.max_steps=12 \
    --set training.batch_size=24 "$@" > "$WORK/$name-1.log" 2>&1 || { cat "$WORK/$name-1.log"; fail "$name: 1-worker run"; }
  local three="$WORK/$name-3/checkpoints/latest" one="$WORK/$name-1/checkpoints/latest"
  compare "$three/masks.safetensors" "$one/masks.safetensors" --exact || fail "$name: masks differ"
  compare "$three/sparsity_state.safetensors" "$one/sparsity_state.safetensors" --atol 1e-4 \
    || fail "$name: criterion state differs"
  grep -q '"sparsity": 0\.[1-9]' "$three/trainer.json" || { cat "$three/trainer.json"; fail "$name: nothing was pruned"; }
  echo "ok $name"
}

check movement --set sparsity.criterion=movement --set sparsity.interval=3 --set sparsity.final_sparsity=0.7
check fisher-heads --set sparsity.criterion=fisher --set sparsity.granularity=heads --set sparsity.warmup_steps=2 \
  --set sparsity.interval=3
check taylor-neurons --set sparsity.criterion=taylor --set sparsity.granularity=neurons --set sparsity.scope=per_layer
check pst --set sparsity.criterion=pst --set sparsity.scope=per_layer --set sparsity.pst.rank=2
check magnitude-2-4-child-tuning-d --set sparsity.granularity=2:4 --set sparsity.schedule=one_shot \
  --set sparsity.warmup_steps=4 --set sparsity.gradient_mask.kind=child_tuning_d --set sparsity.gradient_mask.fisher_batches=3
check levels-movement-sample --set sparsity.criterion=movement --set sparsity.interval=3 \
  --set 'sparsity.levels=[0.3, 0.6, 0.8]' --set sparsity.final_sparsity=0.8 --set sparsity.level_order=sample
echo "PASS sparsity_masks"
