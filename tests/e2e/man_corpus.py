#!/usr/bin/env python3
"""Real text for the language-modeling tests: the man pages of this machine
as JSONL documents, {"text": ...}, one page per line, roff requests dropped.

  man_corpus.py OUT.jsonl [--pages 300] [--skip 0]
"""
import argparse
import glob
import gzip
import json
import re

ESCAPES = re.compile(r"\\f[BIRP]|\\f\(..|\\\(..|\\[-&|^e]|\\\*\(..|\\s[+-]?\d")


def page_text(path):
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        lines = []
        for line in f:
            line = line.rstrip("\n")
            if line.startswith((".", "'")):
                words = line.split(None, 1)
                if len(words) == 2 and words[0] in (".SH", ".SS", ".B", ".I", ".BR", ".IR", ".BI", ".IP", ".TP"):
                    lines.append(words[1].replace('"', ""))
                continue
            lines.append(ESCAPES.sub("", line))
    return "\n".join(l for l in lines if l.strip())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--pages", type=int, default=300)
    p.add_argument("--skip", type=int, default=0)
    a = p.parse_args()
    pages = sorted(glob.glob("/usr/share/man/man1/*.gz"))[a.skip:a.skip + a.pages]
    with open(a.out, "w", encoding="utf-8") as f:
        for path in pages:
            text = page_text(path)
            if len(text) > 200:
                f.write(json.dumps({"text": text}) + "\n")


if __name__ == "__main__":
    main()
