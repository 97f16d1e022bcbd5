#!/usr/bin/env bash
# Known-item relevance (issue #12): found@5 and MRR@10 per query class for edgekb and, on the
# same sets in the same run, MiniSearch 7.2 (fuzzy 0.2 + prefix) and Pagefind 1.6 (in headless
# Chromium).
#   scripts/eval_known_item.sh [--corpus debian|python-docs] [--seed N] [--edgekb-only]
# debian (default seed 1204): the Debian package descriptions, classes exact, prefix, typo, multi
#   (300 each), drawn by scripts/known_item/generate.py;
# python-docs (default seed 2718): the Python 3.11 HTML reference of Debian's python3.11-doc
#   (`apt-get install python3.11-doc`), classes api, title, module, typo, drawn by
#   scripts/known_item/generate_docs.py (Pagefind indexes the HTML pages themselves).
# The sets go to target/known-item/<corpus>-<seed>/ (made once per corpus and seed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CORPUS=debian
SEED=
PEERS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) CORPUS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --edgekb-only) PEERS=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$CORPUS" in
  debian) SEED=${SEED:-1204} ;;
  python-docs) SEED=${SEED:-2718} ;;
  *) echo "unknown corpus $CORPUS (debian or python-docs)" >&2; exit 2 ;;
esac
OUT=target/known-item/$CORPUS-$SEED
if [ ! -f "$OUT/queries.jsonl" ]; then
  mkdir -p "$OUT"
  if [ "$CORPUS" = debian ]; then
    python3 scripts/known_item/generate.py --docs ../shared/data/debian-packages.jsonl.gz \
      --seed "$SEED" --out "$OUT"
  else
    python3 scripts/known_item/generate_docs.py --html /usr/share/doc/python3.11/html \
      --seed "$SEED" --out "$OUT"
  fi
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
echo "$CORPUS, seed $SEED"
python3 scripts/known_item/score.py --targets "$OUT/targets.tsv" "${RUNS[@]}"
