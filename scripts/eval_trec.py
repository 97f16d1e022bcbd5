#!/usr/bin/env python3
"""Score a TREC run file against qrels (stdlib only, Python 3.11+).

Usage:
    python3 scripts/eval_trec.py --qrels QRELS.tsv --run RUN.txt \
        [--queries QUERIES.jsonl] [--json]
    python3 scripts/eval_trec.py --self-test

Measures follow trec_eval's conventions:
  * documents of a query are ordered by score descending, ties broken by
    docid descending (strcmp order); the rank column of the run is ignored;
  * nDCG@10: gain = relevance (levels <= 0 give no gain), discount
    log2(rank + 1); ideal DCG from the query's qrels relevance values,
    sorted descending, top 10;
  * MRR@10: reciprocal rank of the first relevant doc in the top 10, else 0;
  * Recall@100: relevant docs in the top 100 / total relevant docs;
  * a doc is relevant when its relevance > 0.

Averaging: with --queries, over every query in that file that has at least
one relevant doc in the qrels; without it, over every qrels query with at
least one relevant doc. A query with no results in the run scores 0.

Input errors (malformed lines, duplicate docids for a query in the run)
exit with status 2 and a message naming the file and line number.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Iterable

NDCG_CUT = 10
MRR_CUT = 10
RECALL_CUT = 100

Qrels = dict[str, dict[str, int]]  # qid -> docid -> relevance
Run = dict[str, list[tuple[float, str]]]  # qid -> [(score, docid)]


class InputError(Exception):
    """A malformed input line; the message names file and line number."""


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

def _read_lines(path: str) -> list[str]:
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return fh.read().splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8: {exc}") from exc


def parse_qrels(lines: Iterable[str], name: str = "<qrels>") -> Qrels:
    """Parse `qid<TAB>docid<TAB>rel` lines (also accepts TREC 4-column
    `qid iter docid rel`). A header line starting with `query-id` and lines
    whose relevance is not an integer are skipped."""
    qrels: Qrels = {}
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("query-id"):
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            fields = line.split()
        if len(fields) == 3:
            qid, docid, rel_s = fields
        elif len(fields) == 4:
            qid, _, docid, rel_s = fields
        else:
            raise InputError(
                f"{name}:{lineno}: malformed qrels line (expected "
                f"'query_id<TAB>doc_id<TAB>relevance', got {len(fields)} "
                f"fields): {raw!r}")
        qid, docid = qid.strip(), docid.strip()
        if not qid or not docid:
            raise InputError(
                f"{name}:{lineno}: malformed qrels line (empty query or doc "
                f"id): {raw!r}")
        try:
            rel = int(rel_s.strip())
        except ValueError:
            continue  # non-integer relevance (e.g. a header): skip
        qrels.setdefault(qid, {})[docid] = rel
    return qrels


def parse_run(lines: Iterable[str], name: str = "<run>") -> Run:
    """Parse TREC run lines `qid Q0 docid rank score tag`."""
    run: Run = {}
    seen: dict[str, dict[str, int]] = {}
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 6:
            raise InputError(
                f"{name}:{lineno}: malformed run line (expected 6 fields "
                f"'qid Q0 docid rank score tag', got {len(fields)}): {raw!r}")
        qid, _q0, docid, _rank, score_s, _tag = fields
        try:
            score = float(score_s)
        except ValueError:
            raise InputError(
                f"{name}:{lineno}: malformed run line (score {score_s!r} is "
                f"not a number): {raw!r}") from None
        if math.isnan(score):
            raise InputError(
                f"{name}:{lineno}: malformed run line (score is NaN): {raw!r}")
        docs_seen = seen.setdefault(qid, {})
        if docid in docs_seen:
            # trec_eval refuses runs with duplicate docs for a query, too.
            raise InputError(
                f"{name}:{lineno}: duplicate doc {docid!r} for query {qid!r} "
                f"(first seen on line {docs_seen[docid]})")
        docs_seen[docid] = lineno
        run.setdefault(qid, []).append((score, docid))
    return run


def parse_queries(lines: Iterable[str], name: str = "<queries>") -> list[str]:
    """Parse JSONL `{"id": ..., "text": ...}`; returns ids in file order."""
    ids: list[str] = []
    seen: set[str] = set()
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{name}:{lineno}: malformed JSON line: {exc.msg}") from None
        if not isinstance(obj, dict) or "id" not in obj:
            raise InputError(
                f"{name}:{lineno}: malformed query line (expected an object "
                f"with an \"id\" field)")
        qid = obj["id"]
        if isinstance(qid, bool) or not isinstance(qid, (str, int)):
            raise InputError(
                f"{name}:{lineno}: malformed query line (\"id\" must be a "
                f"string or integer)")
        qid = str(qid)
        if qid not in seen:
            seen.add(qid)
            ids.append(qid)
    return ids


# --------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------

def rank_docs(results: list[tuple[float, str]]) -> list[str]:
    """trec_eval order: score descending, then docid descending (strcmp).
    Python str comparison is code-point order, which equals UTF-8 byte order
    and therefore strcmp order."""
    return [d for _, d in sorted(results, key=lambda sd: (sd[0], sd[1]),
                                 reverse=True)]


def score_query(judgments: dict[str, int],
                ranked: list[str]) -> tuple[float, float, float]:
    """Return (ndcg@10, mrr@10, recall@100) for one query."""
    num_rel = sum(1 for r in judgments.values() if r > 0)

    dcg = 0.0
    for i, doc in enumerate(ranked[:NDCG_CUT]):
        rel = judgments.get(doc, 0)
        if rel > 0:
            dcg += rel / math.log2(i + 2)
    ideal = sorted((r for r in judgments.values() if r > 0), reverse=True)
    idcg = sum(rel / math.log2(i + 2) for i, rel in enumerate(ideal[:NDCG_CUT]))
    ndcg = dcg / idcg if idcg > 0 else 0.0

    mrr = 0.0
    for i, doc in enumerate(ranked[:MRR_CUT]):
        if judgments.get(doc, 0) > 0:
            mrr = 1.0 / (i + 1)
            break

    hits = sum(1 for doc in ranked[:RECALL_CUT] if judgments.get(doc, 0) > 0)
    recall = hits / num_rel if num_rel > 0 else 0.0
    return ndcg, mrr, recall


def evaluate(qrels: Qrels, run: Run,
             query_ids: list[str] | None = None) -> dict[str, float | int]:
    """Average the measures over the evaluated queries (see module doc)."""
    def has_rel(qid: str) -> bool:
        return any(r > 0 for r in qrels.get(qid, {}).values())

    if query_ids is None:
        query_ids = list(qrels)
    qids = [q for q in query_ids if has_rel(q)]

    tot_ndcg = tot_mrr = tot_recall = 0.0
    for qid in qids:
        ranked = rank_docs(run.get(qid, []))
        n, m, r = score_query(qrels[qid], ranked)
        tot_ndcg += n
        tot_mrr += m
        tot_recall += r
    count = len(qids)
    if count == 0:
        return {"queries": 0, "ndcg@10": 0.0, "mrr@10": 0.0, "recall@100": 0.0}
    return {
        "queries": count,
        "ndcg@10": tot_ndcg / count,
        "mrr@10": tot_mrr / count,
        "recall@100": tot_recall / count,
    }


def format_human(res: dict[str, float | int]) -> str:
    return (f"queries={res['queries']} nDCG@10={res['ndcg@10']:.4f} "
            f"MRR@10={res['mrr@10']:.4f} Recall@100={res['recall@100']:.4f}")


# --------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------

def _run_lines(rows: list[tuple[str, str, float]]) -> list[str]:
    return [f"{q} Q0 {d} {i + 1} {s} test" for i, (q, d, s) in enumerate(rows)]


def self_test() -> int:
    passed = failed = 0

    def check(name: str, got: float, want: float) -> None:
        nonlocal passed, failed
        if math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12):
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name}: got {got!r}, want {want!r}")

    def check_raises(name: str, fn) -> None:
        nonlocal passed, failed
        try:
            fn()
        except InputError as exc:
            if ":" in str(exc):
                passed += 1
                return
            failed += 1
            print(f"FAIL {name}: message lacks file:line: {exc}")
            return
        failed += 1
        print(f"FAIL {name}: no InputError raised")

    # 1. Basic case: rel d1, d3; run ranks d1, d2, d3.
    qrels = parse_qrels(["q1\td1\t1", "q1\td3\t1", "q1\td2\t0"])
    run = parse_run(_run_lines([("q1", "d1", 3.0), ("q1", "d2", 2.0),
                                ("q1", "d3", 1.0)]))
    res = evaluate(qrels, run)
    check("basic queries", res["queries"], 1)
    check("basic ndcg", res["ndcg@10"],
          (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    check("basic mrr", res["mrr@10"], 1.0)
    check("basic recall", res["recall@100"], 1.0)

    # 2. Tie-breaking: equal scores -> docid descending, rank column ignored.
    #    d2 and d1 tie; the run lists d1 first with rank 1, but trec_eval
    #    orders d2 before d1. Only d1 is relevant -> it sits at rank 2.
    qrels = parse_qrels(["q1\td1\t1"])
    run = parse_run(["q1 Q0 d1 1 5.0 t", "q1 Q0 d2 2 5.0 t"])
    res = evaluate(qrels, run)
    check("tie mrr", res["mrr@10"], 0.5)
    check("tie ndcg", res["ndcg@10"], 1 / math.log2(3))
    # Tie order is strcmp-like: "d10" < "d9", so d9 comes first.
    check("tie strcmp order", 1.0 if rank_docs(
        [(1.0, "d10"), (1.0, "d9"), (2.0, "a")]) == ["a", "d9", "d10"] else 0.0,
        1.0)
    # Rank column ignored: scores decide, not the listed ranks.
    run = parse_run(["q1 Q0 d2 1 1.0 t", "q1 Q0 d1 2 9.0 t"])
    check("rank column ignored", evaluate(qrels, run)["mrr@10"], 1.0)

    # 3. Graded relevance: gain = rel, ideal from qrels values.
    qrels = parse_qrels(["q1\ta\t1", "q1\tb\t2", "q1\tc\t3"])
    run = parse_run(_run_lines([("q1", "a", 3), ("q1", "x", 2),
                                ("q1", "c", 1)]))
    dcg = 1 / math.log2(2) + 3 / math.log2(4)
    idcg = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    res = evaluate(qrels, run)
    check("graded ndcg", res["ndcg@10"], dcg / idcg)
    check("graded recall", res["recall@100"], 2 / 3)

    # 4. Cutoffs: relevant doc at rank 11 -> nDCG@10 = MRR@10 = 0, recall 1;
    #    relevant doc at rank 101 -> recall@100 = 0.
    qrels = parse_qrels(["q1\trel\t1", "q2\trel\t1"])
    rows = [("q1", f"n{i:03d}", 100.0 - i) for i in range(10)]
    rows.append(("q1", "rel", 50.0))
    rows += [("q2", f"n{i:03d}", 1000.0 - i) for i in range(100)]
    rows.append(("q2", "rel", 1.0))
    res = evaluate(qrels, parse_run(_run_lines(rows)))
    check("cutoff ndcg", res["ndcg@10"], 0.0)
    check("cutoff mrr", res["mrr@10"], 0.0)
    check("cutoff recall", res["recall@100"], 0.5)

    # 5. Averaging: query missing from the run scores 0; queries without
    #    relevant docs are not counted; --queries restricts the set.
    qrels = parse_qrels(["query-id\tcorpus-id\tscore",
                         "q1\td1\t1", "q2\td2\t1", "q3\td3\t0"])
    run = parse_run(["q1 Q0 d1 1 1.0 t", "q3 Q0 d3 1 1.0 t"])
    res = evaluate(qrels, run)
    check("avg queries", res["queries"], 2)
    check("avg ndcg", res["ndcg@10"], 0.5)
    check("avg recall", res["recall@100"], 0.5)
    qids = parse_queries(['{"id": "q1", "text": "a"}',
                          '{"id": "q3", "text": "b"}',
                          '{"id": "q4", "text": "c"}'])
    res = evaluate(qrels, run, qids)
    check("queries-file count", res["queries"], 1)
    check("queries-file mrr", res["mrr@10"], 1.0)

    # 6. Malformed input is reported with file:line.
    check_raises("bad qrels", lambda: parse_qrels(["q1\td1"], "x.tsv"))
    check_raises("bad run fields", lambda: parse_run(["q1 Q0 d1 1"], "r.txt"))
    check_raises("bad run score",
                 lambda: parse_run(["q1 Q0 d1 1 abc t"], "r.txt"))
    check_raises("dup run doc", lambda: parse_run(
        ["q1 Q0 d1 1 2 t", "q1 Q0 d1 2 1 t"], "r.txt"))
    check_raises("bad queries", lambda: parse_queries(["{nope"], "q.jsonl"))

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Score a TREC run against qrels (nDCG@10, MRR@10, "
                    "Recall@100, trec_eval conventions).")
    ap.add_argument("--qrels", help="TSV: query_id<TAB>doc_id<TAB>relevance")
    ap.add_argument("--run", help="TREC run: qid Q0 docid rank score tag")
    ap.add_argument("--queries",
                    help="JSONL {\"id\",\"text\"}: the queries to average over")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON object instead of a human line")
    ap.add_argument("--self-test", action="store_true",
                    help="run built-in hand-computed cases and exit")
    args = ap.parse_args(argv)

    if args.self_test:
        return self_test()
    if not args.qrels or not args.run:
        ap.error("--qrels and --run are required (or use --self-test)")

    try:
        qrels = parse_qrels(_read_lines(args.qrels), args.qrels)
        run = parse_run(_read_lines(args.run), args.run)
        qids = (parse_queries(_read_lines(args.queries), args.queries)
                if args.queries else None)
    except InputError as exc:
        print(f"eval_trec: error: {exc}", file=sys.stderr)
        return 2

    res = evaluate(qrels, run, qids)
    if args.json:
        print(json.dumps(res))
    else:
        print(format_human(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
