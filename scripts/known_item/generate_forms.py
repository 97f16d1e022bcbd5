#!/usr/bin/env python3
"""Known-item queries for a real word in a form the corpus never writes ("unseen forms").

    pip install snowballstemmer   # the English Snowball stemmer edgekb's index uses
    python3 scripts/known_item/generate_forms.py --docs DOCS.jsonl --vocab V.jsonl[.gz] ... \\
        --seed N --out DIR

A document is drawn at random (one `random.Random(seed)`), then one of its title words of at
least 5 letters in at most 10 documents (df over title+body, words as in generate.py: ASCII
letter runs, lower-cased, diacritics stripped), written in another form of the same stem
(`+s`, `+es`, `+ing`, `+ed`, `+er`, `+ers`, `+ly`; `e` → `ing`/`ed`/`es`/`ion`/`ions`;
`y` → `ies`; a final `s` dropped) that is a word of the vocabulary files (real text, so the form
is a real word) and occurs nowhere in the corpus; the query is that form, finished (a trailing
space), and the document is the target. At most one query per document, a form used once, up
to --count queries. Writes DIR/queries.jsonl and DIR/targets.tsv (class `form`), which
`edgekb search --queries` and score.py read.

What it measures: a query whose word the index knows only through its stem, where what is meant
is that stem's documents (BENCHMARKS.md, "Typos of a word known only through its stem").
"""
import argparse
import collections
import gzip
import json
import random
import re
import unicodedata

import snowballstemmer


def words(text):
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return re.findall(r"[a-z]+", t)


def read_jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def text_of(d):
    return " ".join(str(d.get(k, "") or "") for k in ("title", "body", "text"))


def forms_of(w):
    out = [w + suf for suf in ("s", "es", "ing", "ed", "er", "ers", "ly")]
    if w.endswith("e"):
        out += [w[:-1] + suf for suf in ("ing", "ed", "es", "ion", "ions")]
    if w.endswith("y"):
        out.append(w[:-1] + "ies")
    if w.endswith("s"):
        out.append(w[:-1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", required=True)
    ap.add_argument("--vocab", nargs="+", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    stem = snowballstemmer.stemmer("english").stemWord
    docs = list(read_jsonl(a.docs))
    df = collections.Counter()
    title_words = []
    for d in docs:
        df.update(set(words(text_of(d))))
        title_words.append([w for w in words(d.get("title", "") or "") if len(w) >= 5])
    vocab = set()
    for path in a.vocab:
        for d in read_jsonl(path):
            vocab.update(words(text_of(d)))
    rng = random.Random(a.seed)
    order = list(range(len(docs)))
    rng.shuffle(order)
    out, used = [], set()
    for i in order:
        cands = [
            v
            for w in title_words[i]
            if df[w] <= 10
            for v in forms_of(w)
            if v not in df and v in vocab and v not in used and stem(v) == stem(w)
        ]
        if cands:
            v = rng.choice(cands)
            used.add(v)
            out.append((f"form-{len(out):03d}", v, docs[i]["id"]))
        if len(out) >= a.count:
            break
    with open(f"{a.out}/queries.jsonl", "w", encoding="utf-8") as f:
        for qid, v, _ in out:
            f.write(json.dumps({"id": qid, "text": v + " "}) + "\n")
    with open(f"{a.out}/targets.tsv", "w", encoding="utf-8") as f:
        for qid, _, target in out:
            f.write(f"{qid}\tform\t{target}\n")
    print(f"{len(out)} queries in {a.out}")


if __name__ == "__main__":
    main()
