"""The check of tests/gpu/hf_export_transformers.sh: the real transformers
loads a directory written by `distill export --format hf` with the class its
config.json names, and computes the logits (or BertModel's last hidden state)
that transformers computed on the original checkpoint (expected.safetensors of
the fixture), within 1e-4.

    python3 load_with_transformers.py EXPORT_DIR FIXTURE_DIR
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import load_file

export_dir, fixture_dir = sys.argv[1], sys.argv[2]
with open(os.path.join(export_dir, "config.json")) as f:
    architecture = json.load(f)["architectures"][0]
model = getattr(transformers, architecture).from_pretrained(export_dir, attn_implementation="eager").eval()
inputs = load_file(os.path.join(fixture_dir, "inputs.safetensors"))
expected = load_file(os.path.join(fixture_dir, "expected.safetensors"))
with torch.no_grad():
    outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
key = "logits" if "logits" in expected else "last_hidden_state"
got = getattr(outputs, key).float()
diff = (got - expected[key]).abs().max().item()
print(f"{architecture} from {export_dir}: max |{key} - transformers' on the original| = {diff:.2e}")
sys.exit(0 if diff <= 1e-4 else 1)
