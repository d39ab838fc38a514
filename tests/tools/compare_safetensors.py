#!/usr/bin/env python3
"""Compares the tensors of two safetensors files (same names and shapes).

  compare_safetensors.py A B --exact      every tensor bitwise equal
  compare_safetensors.py A B --atol 1e-5  max |a - b| <= atol for every tensor
A or B may name several files joined by ',' (ZeRO-1 optimizer shards): their tensors are merged.
Exit 0 when they match, 1 otherwise, printing the worst tensor.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit"))
from read_safetensors import read  # noqa: E402


def merged(paths):
    out = {}
    for path in paths.split(","):
        out.update(read(path)[1])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--exact", action="store_true")
    p.add_argument("--atol", type=float, default=0.0)
    args = p.parse_args()
    ta, tb = merged(args.a), merged(args.b)
    if sorted(ta) != sorted(tb):
        print(f"different tensor names: {sorted(set(ta) ^ set(tb))}")
        return 1
    worst_name, worst = None, -1.0
    for name in sorted(ta):
        a, b = ta[name][2], tb[name][2]
        if a.shape != b.shape:
            print(f"{name}: shapes {a.shape} vs {b.shape}")
            return 1
        if args.exact:
            if a.tobytes() != b.tobytes():
                diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
                print(f"{name}: not bitwise equal (max abs diff {diff:.3e})")
                return 1
            continue
        diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
        if diff > worst:
            worst_name, worst = name, diff
    if args.exact:
        print(f"{len(ta)} tensors bitwise equal")
        return 0
    print(f"{len(ta)} tensors, max abs diff {worst:.3e} ({worst_name}), atol {args.atol:.1e}")
    return 0 if worst <= args.atol else 1


if __name__ == "__main__":
    sys.exit(main())
