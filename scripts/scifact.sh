#!/usr/bin/env bash
# Relevance on BEIR SciFact (300 queries with judgments): nDCG@10, MRR@10, Recall@100.
#   scripts/scifact.sh [path/to/scifact]      (default ../shared/data/scifact)
# Ranks with OR semantics (--any: every document matching any word, by BM25F), typo tolerance on
# (only words the dictionary lacks are corrected) and no prefix matching (whole claims, not
# typing), the default analyzer (English Snowball stemmer, English stop words).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=${1:-../shared/data/scifact}
OUT=target/scifact
mkdir -p "$OUT"
cargo build --release --quiet --bin edgekb
gzip -dc "$DATA/docs.jsonl.gz" > "$OUT/docs.jsonl"
./target/release/edgekb build "$OUT/docs.jsonl" --out "$OUT/kb.ekb" --single
./target/release/edgekb search "$OUT/kb.ekb" --queries "$DATA/queries.jsonl" --limit 100 \
  --format trec --any --no-prefix > "$OUT/run.trec"
python3 scripts/eval_trec.py --qrels "$DATA/qrels.tsv" --run "$OUT/run.trec" --queries "$DATA/queries.jsonl"
