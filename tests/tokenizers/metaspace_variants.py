"""Writes two variants of a Llama 2 tokenizer.json whose whitespace handling is
the Metaspace pre-tokenizer instead of the Prepend + Replace normalizers: the
layouts transformers' converters write for newer SentencePiece models
(Mistral v0.3, Llama 2 with legacy=False: prepend_scheme "first", no split)
and older ones (prepend_scheme "always", split on "▁"). Same vocabulary and
merges; conformance.sh encodes them with the real tokenizers library too.

    python3 metaspace_variants.py LLAMA2_TOKENIZER.json OUT_DIR
"""
import json
import os
import sys

source, out_dir = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    base = json.load(f)
variants = {
    "metaspace-first": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
    "metaspace-split": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
}
for name, pre_tokenizer in variants.items():
    variant = dict(base, normalizer=None, pre_tokenizer=pre_tokenizer)
    os.makedirs(os.path.join(out_dir, name), exist_ok=True)
    with open(os.path.join(out_dir, name, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(variant, f, ensure_ascii=False)
