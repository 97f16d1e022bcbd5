#!/usr/bin/env python3
"""Known-item query sets from the Debian package descriptions (issue #12's class rules).

    scripts/known_item/generate.py [--docs ../shared/data/debian-packages.jsonl.gz]
                                   [--seed 1204] [--per-class 300] [--out target/known-item]

Writes <out>/docs.jsonl (the corpus, decompressed), <out>/queries.jsonl ({"id","text"}, every
class) and <out>/targets.tsv (query id, class, wanted document id).

Query words are ASCII-letter runs of the text, lower-cased, diacritics stripped; document
frequency (df) counts documents whose title+body contain the word. Targets are documents drawn
at random without replacement (one random generator, `random.Random(seed)`, drawing the classes
in the order below); a duplicate query string is skipped.

- exact: a title word (>= 3 letters, not a stop word) with df <= 10, or two adjacent such title
  words co-occurring in <= 10 documents, 50/50 when both exist;
- prefix: the first 4 or 5 letters (50/50) of a title word of >= 7 letters with df <= 10;
- typo: a title word of >= 6 letters with df <= 10 with one edit not at position 0 (deletion,
  substitution, transposition of two different adjacent letters, or insertion, uniformly) whose
  result occurs nowhere in the corpus;
- multi: two different words (>= 4 letters, not stop words, df <= 200 each) of title+body that
  co-occur in <= 10 documents, in random order.
"""
import argparse
import gzip
import json
import os
import random
import re
import unicodedata

# edgekb's English stop words (src/analysis/mod.rs).
STOP = set(
    "a an and are as at be but by for from has have if in into is it its no not of on or such "
    "that the their then there these they this to was were which will with".split()
)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def words(text):
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return re.findall(r"[a-z]+", t)


def one_edit(w, rng, taken):
    """One edit of w not at position 0 (deletion, substitution, transposition of two different
    letters or insertion, chosen uniformly) whose result is not in taken; None after 20 tries."""
    for _ in range(20):
        kind = rng.choice(["del", "sub", "swap", "ins"])
        if kind == "del":
            p = rng.randrange(1, len(w))
            t = w[:p] + w[p + 1 :]
        elif kind == "sub":
            p = rng.randrange(1, len(w))
            c = rng.choice([c for c in LETTERS if c != w[p]])
            t = w[:p] + c + w[p + 1 :]
        elif kind == "swap":
            ps = [p for p in range(1, len(w) - 1) if w[p] != w[p + 1]]
            if not ps:
                continue
            p = rng.choice(ps)
            t = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
        else:
            p = rng.randrange(1, len(w) + 1)
            t = w[:p] + rng.choice(LETTERS) + w[p:]
        if t not in taken:
            return t
    return None


def draw(docs, classes, rng, per_class, out):
    """Draws up to per_class queries per class (name, make) over the documents in a random
    order, skipping documents that give none and repeated query strings; writes
    out/queries.jsonl and out/targets.tsv (query id, class, wanted document id)."""
    queries, targets = [], []
    for name, make in classes:
        order = list(range(len(docs)))
        rng.shuffle(order)
        seen = set()
        n = 0
        for i in order:
            if n == per_class:
                break
            q = make(i)
            if q is None or q in seen:
                continue
            seen.add(q)
            qid = f"{name}-{n:03d}"
            queries.append({"id": qid, "text": q})
            targets.append((qid, name, docs[i][0]))
            n += 1
    with open(os.path.join(out, "queries.jsonl"), "w") as f:
        for q in queries:
            f.write(json.dumps(q) + "\n")
    with open(os.path.join(out, "targets.tsv"), "w") as f:
        for t in targets:
            f.write("\t".join(t) + "\n")
    return queries, targets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="../shared/data/debian-packages.jsonl.gz")
    ap.add_argument("--seed", type=int, default=1204)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--out", default="target/known-item")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    docs = []
    with gzip.open(a.docs, "rt", encoding="utf-8") as f, open(
        os.path.join(a.out, "docs.jsonl"), "w", encoding="utf-8"
    ) as out:
        for line in f:
            if not line.strip():
                continue
            out.write(line if line.endswith("\n") else line + "\n")
            d = json.loads(line)
            title = d.get("title", "")
            body = d.get("body", "") or d.get("text", "")
            tw = words(title)
            docs.append((d["id"], tw, set(tw) | set(words(body))))
    postings = {}
    for i, (_, _, ws) in enumerate(docs):
        for w in ws:
            postings.setdefault(w, []).append(i)
    df = {w: len(p) for w, p in postings.items()}

    def co(w1, w2):
        a1, a2 = postings[w1], postings[w2]
        if len(a1) > len(a2):
            a1, a2 = a2, a1
        s = set(a2)
        return sum(1 for d in a1 if d in s)

    rng = random.Random(a.seed)

    def exact(i):
        _, tw, _ = docs[i]
        ok = lambda w: len(w) >= 3 and w not in STOP and df[w] <= 10
        singles = sorted({w for w in tw if ok(w)})
        pairs = sorted(
            {
                (x, y)
                for x, y in zip(tw, tw[1:])
                if x != y and ok(x) and ok(y) and co(x, y) <= 10
            }
        )
        if singles and pairs:
            pick = rng.choice(singles) if rng.random() < 0.5 else " ".join(rng.choice(pairs))
        elif singles:
            pick = rng.choice(singles)
        elif pairs:
            pick = " ".join(rng.choice(pairs))
        else:
            return None
        return pick

    def prefix(i):
        _, tw, _ = docs[i]
        cands = sorted({w for w in tw if len(w) >= 7 and df[w] <= 10})
        if not cands:
            return None
        w = rng.choice(cands)
        return w[: rng.choice([4, 5])]

    def typo(i):
        _, tw, _ = docs[i]
        cands = sorted({w for w in tw if len(w) >= 6 and df[w] <= 10})
        if not cands:
            return None
        w = rng.choice(cands)
        return one_edit(w, rng, df)

    def multi(i):
        _, _, ws = docs[i]
        cands = sorted(w for w in ws if len(w) >= 4 and w not in STOP and df[w] <= 200)
        if len(cands) < 2:
            return None
        for _ in range(30):
            x, y = rng.sample(cands, 2)
            if co(x, y) <= 10:
                return x + " " + y
        return None

    queries, targets = draw(docs, [("exact", exact), ("prefix", prefix), ("typo", typo), ("multi", multi)],
                            rng, a.per_class, a.out)
    print(f"{len(docs)} documents, {len(queries)} queries, seed {a.seed} -> {a.out}")


if __name__ == "__main__":
    main()
