#!/usr/bin/env python3
"""What each query costs on the wire when it is the first one: every query runs alone, in a
fresh `edgekb search <split dir> "<query>" --stats --json` process (an empty cache after the
open), and the requests, bytes and round trips its search made are averaged by query kind.

    python3 scripts/cold-wire.py <split dir> <queries.jsonl> [--first N] [--limit K] [--bin PATH]

The query file is JSON Lines {"id","text"[,"kind"]} (`kind` groups the figures; without it,
every query is in `all`), as `edgekb search --queries` reads it and as
`scripts/bench-browser.mjs` writes `target/bench/queries-typo.jsonl` and
`queries-latency.jsonl`. The opening (manifest and dictionary) is not counted.
"""
import argparse
import json
import statistics
import subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split")
    ap.add_argument("queries")
    ap.add_argument("--first", type=int, default=None, help="only the first N queries")
    ap.add_argument("--limit", type=int, default=5, help="hits asked for (default 5)")
    ap.add_argument("--bin", default="target/release/edgekb")
    a = ap.parse_args()
    by = {}
    with open(a.queries) as f:
        for i, line in enumerate(f):
            if a.first is not None and i >= a.first:
                break
            if not line.strip():
                continue
            q = json.loads(line)
            out = subprocess.run(
                [a.bin, "search", a.split, q["text"], "--stats", "--json", "--limit", str(a.limit)],
                capture_output=True, text=True, check=True,
            ).stdout
            w = json.loads(out)["wire"]
            by.setdefault(q.get("kind", "all"), []).append((w["bytes"], w["requests"], w["roundTrips"]))
    for kind, rows in sorted(by.items()):
        b = sorted(r[0] for r in rows)
        print(
            f"{kind}: {len(rows)} queries; bytes mean {statistics.mean(b):,.0f}, p50 {b[len(b) // 2]:,}, "
            f"p90 {b[int(len(b) * 0.9)]:,}; requests mean {statistics.mean(r[1] for r in rows):.2f}; "
            f"round trips mean {statistics.mean(r[2] for r in rows):.2f}, most {max(r[2] for r in rows)}"
        )


if __name__ == "__main__":
    main()
