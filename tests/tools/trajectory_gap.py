#!/usr/bin/env python3
"""How far a run ended from a reference run, relative to how far the reference moved.

  trajectory_gap.py INIT.pt REF.safetensors OTHER.safetensors --max 0.2

INIT.pt is the TorchScript model both runs started from. Prints
||other - ref|| / ||ref - init|| over all tensors of REF (Frobenius, all
tensors together) and exits 1 when it is above --max. Used to check that a
lower-precision run (bf16) follows the fp32 trajectory: a plain atol cannot,
since AdamW turns tiny gradient differences into full-size steps.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit"))
from read_safetensors import read  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("init")
    p.add_argument("ref")
    p.add_argument("other")
    p.add_argument("--max", type=float, required=True)
    a = p.parse_args()
    init = {k: v.detach().numpy().astype(np.float64) for k, v in torch.jit.load(a.init).named_parameters()}
    ref = {k: v[2].astype(np.float64) for k, v in read(a.ref)[1].items()}
    other = {k: v[2].astype(np.float64) for k, v in read(a.other)[1].items()}
    moved = np.sqrt(sum(np.sum((ref[k] - init[k]) ** 2) for k in ref))
    gap = np.sqrt(sum(np.sum((other[k] - ref[k]) ** 2) for k in ref))
    print(f"gap {gap:.3e} / movement {moved:.3e} = {gap / moved:.3f} (max {a.max})")
    return 0 if moved > 0 and gap / moved <= a.max else 1


if __name__ == "__main__":
    sys.exit(main())
