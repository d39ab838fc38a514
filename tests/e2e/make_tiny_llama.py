#!/usr/bin/env python3
"""Writes a small random Llama checkpoint in the Hugging Face layout
(config.json as transformers 4 writes it, model.safetensors), for the
end-to-end tests that need a Llama-family model with a real tokenizer's
vocabulary and no model hub. numpy only.

  make_tiny_llama.py OUT_DIR --vocab 128256 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --seed 1
"""
import argparse
import json
import os
import struct

import numpy as np


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--vocab", type=int, default=128256)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--intermediate", type=int, default=0, help="0: 2.75 x hidden, rounded to 8")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    d, head_dim = a.hidden, a.hidden // a.heads
    ffn = a.intermediate or (int(2.75 * d) + 7) // 8 * 8
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": a.vocab, "hidden_size": d,
        "intermediate_size": ffn, "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0, "rope_scaling": None, "hidden_act": "silu", "tie_word_embeddings": True,
        "attention_bias": False, "mlp_bias": False, "torch_dtype": "float32", "bos_token_id": 128000,
        "eos_token_id": 128001,
    }
    normal = lambda *shape, std=0.02: rng.normal(0.0, std, size=shape).astype(np.float32)
    tensors = {"model.embed_tokens.weight": normal(a.vocab, d), "model.norm.weight": np.ones(d, np.float32)}
    for i in range(a.layers):
        pre = f"model.layers.{i}."
        tensors.update({
            pre + "input_layernorm.weight": np.ones(d, np.float32),
            pre + "post_attention_layernorm.weight": np.ones(d, np.float32),
            pre + "self_attn.q_proj.weight": normal(a.heads * head_dim, d),
            pre + "self_attn.k_proj.weight": normal(a.kv_heads * head_dim, d),
            pre + "self_attn.v_proj.weight": normal(a.kv_heads * head_dim, d),
            pre + "self_attn.o_proj.weight": normal(d, a.heads * head_dim),
            pre + "mlp.gate_proj.weight": normal(ffn, d),
            pre + "mlp.up_proj.weight": normal(ffn, d),
            pre + "mlp.down_proj.weight": normal(d, ffn),
        })
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(a.out, "model.safetensors"), tensors)


if __name__ == "__main__":
    main()
