"""Loads a built-in model saved by the C++ side and checks it works in PyTorch.

Usage: check_builtin_model.py MODEL.pt ARCH LOGITS_OUT

Runs the fixed batch below in eval mode and writes the logits, flattened, as
text to LOGITS_OUT so the C++ test can compare them with its own forward.
Exits non-zero (with the failed assertion) when anything is off, and with
77 when this Python has no torch (the C++ test then fails, naming the package).
"""
import sys

try:
    import torch
except ImportError:
    sys.exit(77)

path, arch, logits_out = sys.argv[1], sys.argv[2], sys.argv[3]
model = torch.jit.load(path)

assert model.distill_arch == arch, model.distill_arch
names = [name for name, _ in model.named_parameters()]
assert names[:2] == ["embed_tokens", "embed_positions"], names
assert "layer0.qkv_weight" in names and "layer1.ff2_weight" in names, names

# train()/eval() must reach the blocks, since dropout reads their `training`.
model.train()
assert model.training and model.layer0.training and model.layer1.training
model.eval()
assert not model.training and not model.layer0.training and not model.layer1.training

input_ids = torch.tensor([[1, 2, 3, 4, 5, 6], [7, 8, 9, 0, 0, 0]])
attention_mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
out = model(input_ids, attention_mask)
assert set(out.keys()) == {"logits", "hidden_states", "attentions"}, out.keys()
layers, heads, width = model.num_layers, model.num_heads, model.d_model
assert out["hidden_states"].shape == (layers + 1, 2, 6, width), out["hidden_states"].shape
assert out["attentions"].shape == (layers, 2, heads, 6, 6), out["attentions"].shape

# Gradients flow in Python too (fine-tuning an exported student).
model.train()
model(input_ids, attention_mask)["logits"].square().sum().backward()
assert model.embed_tokens.grad is not None and model.layer1.qkv_weight.grad.abs().sum() > 0

with open(logits_out, "w") as f:
    f.write(" ".join(repr(v) for v in out["logits"].flatten().tolist()))
print("ok", arch, tuple(out["logits"].shape))
