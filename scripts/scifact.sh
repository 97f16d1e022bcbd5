#!/usr/bin/env bash
# Relevance on BEIR SciFact (300 queries with judgments): nDCG@10, MRR@10, Recall@100.
#   scripts/scifact.sh [path/to/scifact]      (default ../shared/data/scifact)
# The default mode, as a user's query runs (claims have four or more words, so they are long
# queries: OR, English function words dropped, written forms with their stem's IDF; typo
# tolerance and prefix matching on), the default analyzer (English Snowball stemmer, English
# stop words). Extra arguments after the data path go to `edgekb search` (`--any --no-prefix`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=${1:-../shared/data/scifact}
shift $(( $# > 0 ? 1 : 0 ))
OUT=target/scifact
mkdir -p "$OUT"
cargo build --release --quiet --bin edgekb
gzip -dc "$DATA/docs.jsonl.gz" > "$OUT/docs.jsonl"
./target/release/edgekb build "$OUT/docs.jsonl" --out "$OUT/kb.ekb" --single
./target/release/edgekb search "$OUT/kb.ekb" --queries "$DATA/queries.jsonl" --limit 100 \
  --format trec "$@" > "$OUT/run.trec"
python3 scripts/eval_trec.py --qrels "$DATA/qrels.tsv" --run "$OUT/run.trec" --queries "$DATA/queries.jsonl"
