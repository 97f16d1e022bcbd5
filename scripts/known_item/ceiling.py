#!/usr/bin/env python3
"""The best found@5 any ranking can expect on a Debian known-item set (generate.py's rules).

    scripts/known_item/ceiling.py target/known-item/debian-1204

For each query of the exact, prefix and multi classes, every document that could have produced
it gets the probability that generate.py's rule draws that query from it (targets are drawn
uniformly, then a word or pair uniformly among the document's eligible ones), and documents are
ranked by it (ties: shorter title, then id). Ranking by the posterior maximizes the expected
found@5, so no engine can expect more on these sets than this prints (a finite set can still
beat it by chance). The typo class is left out (its posterior needs every edit's probability).
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
    base = sys.argv[1] if len(sys.argv) > 1 else "target/known-item/debian-1204"
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
            found += want in [r[2] for r in ranked[:5] if r[0] < 0]
        print(f"{cls}: best expected found@5 {found / n:.3f} ({n} queries)")


if __name__ == "__main__":
    main()
