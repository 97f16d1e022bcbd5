#!/usr/bin/env python3
"""The queries of one class a run misses (target not in its top 5), and for each: how many
documents hold every query word as written, and which of the run's top 5 do not.

    scripts/known_item/misses.py target/known-item/debian-1204 [--run <run.trec>] [--class multi]

Words are split as generate.py splits them (ASCII-letter runs of title + body, lower-cased,
diacritics stripped). A miss whose top 5 all hold every word is a draw among documents the
query fits equally (siblings); one whose top 5 holds documents lacking a word lost to a stem,
a completion or a correction.
"""
import argparse
import collections
import json
import re
import unicodedata

WORD = re.compile(r"[a-z]+")


def words(text):
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return set(WORD.findall(text))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("set_dir")
    ap.add_argument("--run", help="trec run (default: <set_dir>/run-edgekb.trec)")
    ap.add_argument("--class", dest="cls", default="multi")
    args = ap.parse_args()
    d = args.set_dir
    queries = {}
    with open(f"{d}/queries.jsonl") as f:
        for line in f:
            q = json.loads(line)
            queries[q["id"]] = q["text"]
    targets = {}
    with open(f"{d}/targets.tsv") as f:
        for line in f:
            qid, _, doc = line.rstrip("\n").split("\t")[:3]
            targets[qid] = doc
    ranked = collections.defaultdict(list)
    with open(args.run or f"{d}/run-edgekb.trec") as f:
        for line in f:
            qid, _, doc = line.split()[:3]
            ranked[qid].append(doc)
    docs = {}
    with open(f"{d}/docs.jsonl") as f:
        for line in f:
            doc = json.loads(line)
            docs[doc["id"]] = words(doc.get("title", "") + " " + doc.get("body", ""))
    total = misses = draws = few = 0
    for qid, text in queries.items():
        if not qid.startswith(args.cls):
            continue
        total += 1
        top = ranked[qid][:5]
        if targets[qid] in top:
            continue
        misses += 1
        wanted = words(text)
        holding = sum(1 for ws in docs.values() if wanted <= ws)
        lacking = [doc for doc in top if not wanted <= docs.get(doc, set())]
        draws += not lacking
        few += holding <= 5
        print(f"{qid}\t{text!r}\ttarget {targets[qid]}\t{holding} hold every word\t"
              f"top 5 lacking one: {', '.join(lacking) or '-'}")
    print(f"{args.cls}: {misses} of {total} missed; {draws} with every top-5 document holding "
          f"every word; {few} with at most 5 documents holding every word")


if __name__ == "__main__":
    main()
