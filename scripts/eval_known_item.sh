#!/usr/bin/env bash
# Known-item relevance on the Debian package descriptions (issue #12): found@5 and MRR@10 per
# query class (exact, prefix, typo, multi; 300 each) for edgekb and, on the same sets in the same
# run, MiniSearch 7.2 (fuzzy 0.2 + prefix) and Pagefind 1.6 (in headless Chromium).
#   scripts/eval_known_item.sh [--seed N] [--edgekb-only]
# The sets are drawn by scripts/known_item/generate.py (default seed 1204) into target/known-item/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SEED=1204
PEERS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) SEED=$2; shift 2 ;;
    --edgekb-only) PEERS=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
OUT=target/known-item
DOCS=../shared/data/debian-packages.jsonl.gz
if [ ! -f "$OUT/seed" ] || [ "$(cat "$OUT/seed")" != "$SEED" ] || [ ! -f "$OUT/queries.jsonl" ]; then
  python3 scripts/known_item/generate.py --docs "$DOCS" --seed "$SEED" --out "$OUT"
  echo "$SEED" > "$OUT/seed"
fi
cargo build --release --quiet --bin edgekb
./target/release/edgekb build "$OUT/docs.jsonl" --out "$OUT/kb.ekb" --single > /dev/null
./target/release/edgekb search "$OUT/kb.ekb" --queries "$OUT/queries.jsonl" --limit 10 \
  --format trec > "$OUT/run-edgekb.trec"
RUNS=("$OUT/run-edgekb.trec")
if [ "$PEERS" = 1 ]; then
  node scripts/known_item/minisearch.mjs "$OUT" > "$OUT/run-minisearch.trec"
  node scripts/known_item/pagefind.mjs "$OUT" > "$OUT/run-pagefind.trec"
  RUNS+=("$OUT/run-minisearch.trec" "$OUT/run-pagefind.trec")
fi
echo "seed $SEED"
python3 scripts/known_item/score.py --targets "$OUT/targets.tsv" "${RUNS[@]}"
