#!/usr/bin/env python3
"""found@5 and MRR@10 per query class, for TREC runs against the known-item targets.

    scripts/known_item/score.py --targets target/known-item/targets.tsv RUN.trec [RUN.trec ...]

A query with no result line scores 0 on both. Prints a Markdown table, one row per run.
"""
import argparse
import os
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default="target/known-item/targets.tsv")
    ap.add_argument("--misses", help="print the queries of this class whose target is not in the top 5")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    targets, classes = {}, {}
    for line in open(a.targets):
        qid, cls, doc = line.rstrip("\n").split("\t")
        targets[qid] = doc
        classes[qid] = cls
    order = list(dict.fromkeys(classes.values()))
    print("| run | " + " | ".join(f"{c} found@5 | {c} MRR@10" for c in order) + " |")
    print("|---|" + "---|---|" * len(order))
    for run in a.runs:
        ranks = defaultdict(list)
        for line in open(run):
            p = line.split()
            if len(p) < 4:
                continue
            ranks[p[0]].append((int(p[3]), p[2]))
        found, rr, n = defaultdict(float), defaultdict(float), defaultdict(int)
        for qid, want in targets.items():
            cls = classes[qid]
            n[cls] += 1
            hits = [d for _, d in sorted(ranks.get(qid, []))]
            if want in hits[:5]:
                found[cls] += 1
            elif a.misses == cls:
                print(f"  miss {qid} want {want}: {hits[:5]}")
            if want in hits[:10]:
                rr[cls] += 1 / (hits.index(want) + 1)
        name = os.path.basename(run).removeprefix("run-").removesuffix(".trec")
        cells = " | ".join(f"{found[c] / n[c]:.3f} | {rr[c] / n[c]:.3f}" for c in order)
        print(f"| {name} | {cells} |")


if __name__ == "__main__":
    main()
