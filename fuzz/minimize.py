#!/usr/bin/env python3
"""Shrinks a crashing index file to the fewest bytes that differ from a valid one.

libFuzzer's own minimizer (`cargo fuzz tmin`) erases bytes, which shifts every offset of an
index file and so never keeps the crash. This one instead puts back, one by one, the bytes of a
valid base file of the same length, keeping each change only when the crash (same panic
location) goes away without it. With --fix-crc it then rewrites the section CRCs and the table
CRC, so the result also passes `Index::verify` (what `edgekb search` and the JS binding check).

  fuzz/minimize.py open_and_search artifacts/open_and_search/crash-… seeds/tiny.ekb out.ekb --fix-crc
"""
import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

FUZZ = os.path.dirname(os.path.abspath(__file__))


def run(binary, data):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
        path = f.name
    try:
        p = subprocess.run([binary, path], capture_output=True, text=True, errors="replace")
    finally:
        os.unlink(path)
    m = re.search(r"panicked at (\S+):", p.stderr)
    return (m.group(1) if m else ("crash" if p.returncode else None)), p.stderr


def fix_crc(data):
    b = bytearray(data)
    if b[:8] != b"EDGEKBIX":
        return bytes(b)
    count = struct.unpack_from("<I", b, 12)[0]
    for k in range(min(count, 64)):
        e = 24 + 24 * k
        if e + 24 > len(b):
            break
        _kind, _crc, off, ln = struct.unpack_from("<IIQQ", b, e)
        if off + ln <= len(b):
            struct.pack_into("<I", b, e + 4, zlib.crc32(b[off:off + ln]))
    table = b[24:24 + 24 * count]
    struct.pack_into("<I", b, 16, zlib.crc32(table))
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("crash")
    ap.add_argument("base")
    ap.add_argument("out")
    ap.add_argument("--fix-crc", action="store_true")
    a = ap.parse_args()
    binary = os.path.join(FUZZ, "target", "x86_64-unknown-linux-gnu", "release", a.target)
    crash = open(a.crash, "rb").read()
    base = open(a.base, "rb").read()
    if len(crash) != len(base):
        sys.exit("crash and base must have the same length")
    want, _ = run(binary, crash)
    if not want:
        sys.exit("the input does not crash")
    cur = bytearray(crash)
    for i in [i for i in range(len(cur)) if cur[i] != base[i]]:
        trial = bytearray(cur)
        trial[i] = base[i]
        if run(binary, bytes(trial))[0] == want:
            cur = trial
    out = bytes(cur)
    if a.fix_crc:
        fixed = fix_crc(out)
        if run(binary, fixed)[0] == want:
            out = fixed
        else:
            print("note: with fixed CRCs the input no longer crashes; kept as is", file=sys.stderr)
    open(a.out, "wb").write(out)
    diffs = [(i, base[i], out[i]) for i in range(len(out)) if out[i] != base[i]]
    print(f"panic at {want}; {len(diffs)} bytes differ from {a.base}:")
    for i, x, y in diffs:
        print(f"  offset {i}: {x:#04x} -> {y:#04x}")


if __name__ == "__main__":
    main()
