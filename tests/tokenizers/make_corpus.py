#!/usr/bin/env python3
"""Writes the lines the tokenizer conformance test encodes, one per line.

  make_corpus.py OUT [--man 2000]

Real text first: the source of the man pages on this machine (roff, so prose,
option lists, escapes and code), then lines written here to reach what man
pages lack: many scripts, combining marks in NFC and NFD, emoji with joiners
and skin tones, digit runs, whitespace runs (tabs, no-break and ideographic
spaces), contractions in any case, code, and the special tokens of the
tokenizers under test inside ordinary text. Deterministic: the same machine
gives the same file.
"""
import argparse
import glob
import gzip
import random
import unicodedata

SYNTHETIC = [
    "Hello world! How's it going? I'M FINE, you'RE welcome, they'LL see, we'D go, it'S done.",
    "don't won't can't shouldn't y'all o'clock rock'n'roll",
    "été, naïve café, Ærøskøbing, Straße, İstanbul, ﬁnance (ligature)",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    "日本語のテキスト、漢字とひらがなとカタカナ。中文：我爱自然语言处理！한국어 문장입니다.",
    "العربية: مرحبا بالعالم — עברית: שלום עולם",
    "हिन्दी: नमस्ते दुनिया। தமிழ்: வணக்கம் ไทย: สวัสดีชาวโลก",
    "emoji 🎉🚀👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 keycap 1️⃣ heart ❤️",
    "numbers 1 12 123 1234 12345 123456789 3.14159 -42 1e-10 0x1F 1,000,000 ٣٤٥ ５６７",
    "tabs\tbetween\t\twords and    four spaces    and trailing spaces   ",
    "   leading spaces, then\u00a0no-break\u00a0spaces and an\u3000ideographic space",
    "def f(x): return [i**2 for i in range(x) if i % 2 == 0]  # comment",
    "int main(int argc, char** argv) { std::vector<int> v{1, 2, 3}; return v.size() > 2 ? 0 : 1; }",
    "<html><body class=\"x\">a &amp; b</body></html> {\"key\": [1, 2, {\"k\": null}]}",
    "SELECT name, COUNT(*) FROM users WHERE age >= 21 GROUP BY name;",
    "path/to/file.txt C:\\Windows\\System32 https://example.org/a?b=c&d=e#f user@example.com",
    "!!!??? ... --- *** ~~~ ``` $$$ %%% ^^^ &&& ||| \\\\ //",
    "special tokens in text: <|endoftext|> and <|begin_of_text|>hello<|end_of_text|> <|im_start|>user",
    "<s>SentencePiece specials: <s> hello </s>world<unk> and </s> <s>",
    "<|begin_of_text|>starts with a special token",
    "math: ∀x∈ℝ, x² ≥ 0; ∑ᵢ aᵢ = ∞; α→β ⇒ γ",
    "mixed中文English混合text with数字123和emoji😀",
    "ＡＢＣ ｆｕｌｌｗｉｄｔｈ ａｎｄ ｈａｌｆｗｉｄｔｈ ｶﾀｶﾅ",
    "a  b   c    d     e      f",
    "",
    " ",
    "x",
]


def man_lines(limit):
    lines = []
    for path in sorted(glob.glob("/usr/share/man/man1/*.gz"))[:400]:
        try:
            with gzip.open(path, "rt", encoding="utf-8", errors="strict") as f:
                for line in f:
                    line = line.rstrip("\n")
                    if line and "\r" not in line:
                        lines.append(line)
        except (UnicodeDecodeError, OSError, EOFError):
            continue
        if len(lines) >= limit:
            break
    return lines[:limit]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--man", type=int, default=2000)
    a = p.parse_args()
    rng = random.Random(7)
    lines = man_lines(a.man)
    lines += SYNTHETIC
    # Both normal forms: NFC-normalizing tokenizers must see the same ids for both.
    for s in SYNTHETIC:
        lines.append(unicodedata.normalize("NFD", s))
    # Random mixtures of the pieces above, to hit boundaries between scripts and spaces.
    pieces = " ".join(SYNTHETIC).split(" ")
    spaces = [" ", "  ", "\t", "   ", "\u00a0", "\u3000", ""]
    for _ in range(600):
        n = rng.randint(1, 12)
        lines.append("".join(rng.choice(pieces) + rng.choice(spaces) for _ in range(n)))
    with open(a.out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line.replace("\n", " ").replace("\r", " ") + "\n")


if __name__ == "__main__":
    main()
