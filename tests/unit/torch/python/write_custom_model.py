"""Writes a small PyTorch model in the contract of docs/models.md, the way a
user brings their own teacher: a wrapper whose forward returns the dict, then
torch.jit.script and save. Mirrors the example in docs/models.md.

Usage: write_custom_model.py OUT.pt
Exits 77 when this Python has no torch (the C++ test then skips).
"""
import sys
from typing import Dict

try:
    import torch
except ImportError:
    sys.exit(77)


class BagOfWords(torch.nn.Module):
    """Stands in for a user's model: masked mean of embeddings, then a head."""

    def __init__(self, vocab: int, width: int, classes: int):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.head = torch.nn.Linear(width, classes)

    def forward(self, input_ids, attention_mask):
        h = self.embed(input_ids)
        w = attention_mask.unsqueeze(-1).to(h.dtype)
        return self.head((h * w).sum(1) / w.sum(1).clamp(min=1.0)), h


class ContractWrapper(torch.nn.Module):
    """forward(input_ids, attention_mask) -> {"logits", "hidden_states"}."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        logits, hidden = self.model(input_ids, attention_mask)
        return {"logits": logits, "hidden_states": hidden.unsqueeze(0)}


torch.manual_seed(0)
scripted = torch.jit.script(ContractWrapper(BagOfWords(vocab=50, width=16, classes=3)))
scripted.save(sys.argv[1])
print("wrote", sys.argv[1])
