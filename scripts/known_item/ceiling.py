#!/usr/bin/env python3
"""The best found@5 any ranking can expect on a Debian known-item set (generate.py's rules).

    scripts/known_item/ceiling.py target/known-item/debian-1204 [--run <run.trec>]

For each query of the exact, prefix and multi classes, every document that could have produced
it gets the probability that generate.py's rule draws that query from it (targets are drawn
uniformly, then a word or pair uniformly among the document's eligible ones), and documents are
ranked by it (ties: shorter title, then id). Ranking by the posterior maximizes the expected
found@5, so no engine can expect more on these sets than this prints (a finite set can still
beat it by chance). The typo class is left out (its posterior needs every edit's probability).

With --run (a trec run over the same set, e.g. run-edgekb.trec), the prefix class is compared
with it: how many queries each finds in its top 5, and, for those the ideal ranking finds and
the run does not, what the run ranks above the target (the first present of: a title holding
the typed letters as a whole word, a body-only match, a title completion in more than 10
documents, a rare title completion shorter than 7 letters, rare long title completions only).
"""
import collections
import json
import re
import sys
import unicodedata

STOP = set(
    "a an and are as at be but by for from has have if in into is it its no not of on or such "
    "that the their then there these they this to was were which will with".split()
)


def words(text):
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return re.findall(r"[a-z]+", t)


def main():
    args = sys.argv[1:]
    run_path = None
    if "--run" in args:
        k = args.index("--run")
        run_path = args[k + 1]
        del args[k : k + 2]
    base = args[0] if args else "target/known-item/debian-1204"
    docs = []
    for line in open(base + "/docs.jsonl", encoding="utf-8"):
        d = json.loads(line)
        tw = words(d.get("title", ""))
        docs.append((d["id"], tw, set(tw) | set(words(d.get("body", "") or d.get("text", "")))))
    post = collections.defaultdict(set)
    for i, (_, _, ws) in enumerate(docs):
        for w in ws:
            post[w].add(i)
    df = {w: len(p) for w, p in post.items()}
    co = lambda x, y: len(post[x] & post[y])
    ok = lambda w: len(w) >= 3 and w not in STOP and df[w] <= 10

    def exact(i, q):
        tw = docs[i][1]
        singles = {w for w in tw if ok(w)}
        pairs = {f"{x} {y}" for x, y in zip(tw, tw[1:]) if x != y and ok(x) and ok(y) and co(x, y) <= 10}
        p = 0.0
        if q in singles:
            p += (0.5 if pairs else 1) / len(singles)
        if q in pairs:
            p += (0.5 if singles else 1) / len(pairs)
        return p

    def prefix(i, q):
        cands = {w for w in docs[i][1] if len(w) >= 7 and df[w] <= 10}
        return sum(1 for w in cands if w.startswith(q)) / len(cands) if cands else 0.0

    def multi(i, q):
        x, y = q.split()
        ws = docs[i][2]
        if x not in ws or y not in ws:
            return 0.0
        n = sum(1 for w in ws if len(w) >= 4 and w not in STOP and df[w] <= 200)
        return 2 / (n * (n - 1))

    queries = {}
    for line in open(base + "/queries.jsonl"):
        q = json.loads(line)
        queries[q["id"]] = q["text"]
    targets = [l.split("\t") for l in open(base + "/targets.tsv").read().splitlines()]
    title_words = collections.defaultdict(set)  # prefix candidates: title words by first letters
    for i, (_, tw, _) in enumerate(docs):
        for w in tw:
            title_words[w[:4]].add(i)
    ideal = {}  # prefix query id -> the ideal top 5
    for cls, p in (("exact", exact), ("prefix", prefix), ("multi", multi)):
        found = n = 0
        for qid, c, want in targets:
            if c != cls:
                continue
            n += 1
            q = queries[qid]
            if cls == "prefix":
                cand = title_words[q[:4]]
            else:
                cand = set.intersection(*[post.get(w, set()) for w in q.split()])
            ranked = sorted((-p(i, q), len(docs[i][1]), docs[i][0]) for i in cand)
            top = [r[2] for r in ranked[:5] if r[0] < 0]
            found += want in top
            if cls == "prefix":
                ideal[qid] = top
        print(f"{cls}: best expected found@5 {found / n:.3f} ({n} queries)")
    if run_path:
        compare(run_path, docs, df, queries, targets, ideal)


def compare(run_path, docs, df, queries, targets, ideal):
    """The prefix class of a run against the ideal ranking (see the module's doc)."""
    run = collections.defaultdict(list)
    for line in open(run_path):
        f = line.split()
        run[f[0]].append(f[2])
    index = {d[0]: i for i, d in enumerate(docs)}
    kinds = ["title word", "body only", "common completion", "short completion", "long completions"]

    def kind(i, q):
        ws = [w for w in docs[i][1] if w.startswith(q)]
        if q in ws:
            return kinds[0]
        if not ws:
            return kinds[1]
        if all(df[w] > 10 for w in ws):
            return kinds[2]
        if not any(len(w) >= 7 and df[w] <= 10 for w in ws):
            return kinds[3]
        return kinds[4]

    both = collections.Counter()
    above = collections.Counter()
    for qid, cls, want in targets:
        if cls != "prefix":
            continue
        ours = run[qid][:5]
        both[(want in ideal[qid], want in ours)] += 1
        if want in ideal[qid] and want not in ours:
            present = {kind(index[d], queries[qid]) for d in ours if d in index}
            above[next((k for k in kinds if k in present), "nothing")] += 1
    name = {True: "finds", False: "misses"}
    for (a, b), n in sorted(both.items()):
        print(f"prefix: ideal {name[a]}, run {name[b]}: {n}")
    print("ideal finds, run misses; ranked above the target: " + ", ".join(f"{k} {above[k]}" for k in kinds))


if __name__ == "__main__":
    main()
