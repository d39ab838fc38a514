#!/usr/bin/env python3
"""Benchmark (not a test; GPU only): a 2:4 semi-structured matmul against the
dense one at a student's linear-layer shapes, in one run on one GPU.

For each weight shape [out, in] of the student (default: the ~1B decoder of
bench/gpu_student_step.cpp, d_model 2048, d_ff 8192: qkv [6144, 2048], out
[2048, 2048], ff1 [8192, 2048], ff2 [2048, 8192]), a weight pruned 2:4 along
its input dimension (as `distill prune --sparsity 2:4` and a 2:4 student
leave it) multiplies `--tokens` activations, y = x W^T, in bf16:

  dense    torch.nn.functional.linear on the pruned weight stored dense
  2:4      the same weight through torch.sparse.to_sparse_semi_structured
           (cuSPARSELt / CUTLASS sparse tensor cores)

It prints the seconds per product (CUDA events, after warm-up), the dense
rate in TFLOP/s (the machine's own peak for scale, measured in the run on a
square 8192 product) and the ratio dense / 2:4, and checks the two results
agree. --report reads the shapes from an exported student's
sparsity_report.json and model.safetensors instead (the tensors it marks
pattern_2_4).

  python3 bench/gpu_semi_structured.py --tokens 8192
  python3 bench/gpu_semi_structured.py --report runs/x/model/sparsity_report.json
"""
import argparse
import json
import os

import torch


def two_four(weight):
    """Keeps the 2 largest |w| of every 4 consecutive inputs."""
    out, inp = weight.shape
    groups = weight.reshape(out, inp // 4, 4)
    keep = groups.abs().topk(2, dim=-1).indices
    mask = torch.zeros_like(groups, dtype=torch.bool).scatter_(-1, keep, True)
    return (groups * mask).reshape(out, inp)


def seconds(fn, repeats):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000 / repeats


def shapes_from_report(path):
    from safetensors import safe_open
    report = json.load(open(path))
    names = [p["name"] for p in report["parameters"] if p.get("pattern_2_4")]
    tensors = os.path.join(os.path.dirname(path), "model.safetensors")
    with safe_open(tensors, "pt") as f:
        return [(n, tuple(f.get_slice(n).get_shape())) for n in names]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--d-model", type=int, default=2048)
    parser.add_argument("--d-ff", type=int, default=8192)
    parser.add_argument("--tokens", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--report", help="an exported student's sparsity_report.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    dev = torch.device("cuda")
    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    peak = 2 * 8192 ** 3 / seconds(lambda: a @ a, 20) / 1e12
    print(f"GPU {torch.cuda.get_device_name(0)}, torch {torch.__version__}; bf16 matmul peak this run: {peak:.0f} TFLOP/s")
    d, f = args.d_model, args.d_ff
    shapes = shapes_from_report(args.report) if args.report else [
        ("qkv", (3 * d, d)), ("out", (d, d)), ("ff1", (f, d)), ("ff2", (d, f))]
    total_dense = total_sparse = 0.0
    for name, (out, inp) in shapes:
        w = two_four(torch.randn(out, inp, device=dev, dtype=torch.bfloat16))
        x = torch.randn(args.tokens, inp, device=dev, dtype=torch.bfloat16)
        ws = torch.sparse.to_sparse_semi_structured(w)
        dense_y, sparse_y = torch.nn.functional.linear(x, w), torch.nn.functional.linear(x, ws)
        error = ((dense_y.float() - sparse_y.float()).norm() / dense_y.float().norm()).item()
        assert error < 1e-2, f"{name}: 2:4 result differs from dense by {error}"
        t_dense = seconds(lambda: torch.nn.functional.linear(x, w), args.repeats)
        t_sparse = seconds(lambda: torch.nn.functional.linear(x, ws), args.repeats)
        total_dense += t_dense
        total_sparse += t_sparse
        rate = 2 * args.tokens * out * inp / t_dense / 1e12
        print(f"{name:>24} [{out}, {inp}] x {args.tokens} tokens: dense {t_dense * 1e3:.3f} ms ({rate:.0f} TFLOP/s, "
              f"{100 * rate / peak:.0f}% of peak), 2:4 {t_sparse * 1e3:.3f} ms: {t_dense / t_sparse:.2f}x "
              f"(relative difference {error:.1e})")
    print(f"all shapes: dense {total_dense * 1e3:.3f} ms, 2:4 {total_sparse * 1e3:.3f} ms: "
          f"{total_dense / total_sparse:.2f}x")


if __name__ == "__main__":
    main()
