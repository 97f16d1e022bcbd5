#!/usr/bin/env python3
"""Checks filters and facet counts of `edgekb search` against a brute-force count over the
JSON Lines input, on a real corpus (the Debian packages):

    scripts/check-facets.py <edgekb> <kb> <docs.jsonl> [query] [filter] [facet]

1. `edgekb search <kb> <query> --filter <filter> --facets <facet> --snippets --json`: every hit
   carries the filtered value (read from the JSONL by id), has a snippet and highlights.
2. The same search with --limit 10000 returns every match (total <= 10000); the facet counts
   must equal a count of the facet field's values, in the JSONL, over those documents, and the
   first run's counts (over every match, not only its hits) must equal them too.
3. The filter alone (empty query) returns exactly the JSONL documents that carry the value.
Exits non-zero on any difference.
"""
import json
import subprocess
import sys
from collections import Counter

edgekb, kb, jsonl = sys.argv[1:4]
query = sys.argv[4] if len(sys.argv) > 4 else "python web framework"
flt = sys.argv[5] if len(sys.argv) > 5 else "tags:devel::lang:python"
facet = sys.argv[6] if len(sys.argv) > 6 else "tags"
field, value = flt.split(":", 1)


def carries(values):
    """Whether a document's values pass the filter (`value*` is a prefix)."""
    if value.endswith("*"):
        return any(v.startswith(value[:-1]) for v in values)
    return value in values


docs = {}
order = []
with open(jsonl, encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        v = d.get(facet, [])
        docs[d["id"]] = {"facet": set(v if isinstance(v, list) else [v]),
                         "field": set(d.get(field, []))}
        order.append(d["id"])


def search(q, limit, extra=()):
    out = subprocess.run([edgekb, "search", kb, "--json", "--limit", str(limit),
                          "--filter", flt, "--facets", facet, *extra, "--", q],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += 0 if ok else 1


first = search(query, 10, ["--snippets"])
check(len(first["hits"]) > 0, f"{query!r} --filter {flt!r}: {first['total']} matches, "
      f"{len(first['hits'])} hits")
for h in first["hits"]:
    check(carries(docs[h["id"]]["field"]), f"hit {h['id']} carries {value} in the JSONL")
    check(bool(h.get("snippet")) and bool(h.get("highlights")),
          f"hit {h['id']} has a snippet and highlights")
every = search(query, 10000)
check(every["total"] == len(every["hits"]), f"all {every['total']} matches returned")
brute = Counter()
for h in every["hits"]:
    if not carries(docs[h["id"]]["field"]):
        check(False, f"match {h['id']} carries {value}")
    brute.update(docs[h["id"]]["facet"])
check(dict(brute) == every.get("facets", {}).get(facet, {}),
      f"facet counts of {facet} over every match equal the brute-force count "
      f"({len(brute)} values, {sum(brute.values())} document-values)")
check(first.get("facets") == every.get("facets"),
      "counts do not depend on --limit (they are over every match)")
only = search("", 10000)
want = [i for i in order if carries(docs[i]["field"])]
check([h["id"] for h in only["hits"]] == want[:10000] and only["total"] == len(want),
      f"the filter alone returns exactly the {len(want)} documents with {value}")
brute_all = Counter()
for i in want:
    brute_all.update(docs[i]["facet"])
check(dict(brute_all) == only.get("facets", {}).get(facet, {}),
      f"facet counts of the filter alone equal the brute-force count ({len(brute_all)} values)")
print(f"{failures} failed")
sys.exit(1 if failures else 0)
