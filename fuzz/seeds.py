#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/ (git-ignored).

open_and_search: the committed fixture indexes of formats 1 to 3 (tests/compat/v*/fixture.ekb)
                 and format 3's many-blocks index (tests/compat/v3/blocks.ekb: skip tables
                 and block impacts), three small ones, which mutate much faster:
                 seeds/tiny.ekb (format 1, 861 bytes, built by `edgekb build --out
                 fuzz/seeds/tiny.ekb fuzz/seeds/tiny.jsonl` before stop words were on by
                 default), seeds/tiny-v2.ekb (format 2, with a DISPLAY section, 874 bytes,
                 `edgekb build --single` of the same file) and seeds/tiny-v3.ekb (format 3,
                 the same command), and
                 seeds/tiny-v11.ekb (format 11, the same command: FOLD, compact chunk tables,
                 the store's deflate chunks and preset dictionary, name-field postings),
                 format 11's fixture (tests/compat/v11/fixture.ekb), and
                 the dictionary files of the split seeds below (PAGES; ROUTER).
facets:          seeds/facets.ekb (tests/fixtures/facets.jsonl built with its facets.toml:
                 FACETS, SYNONYMS, sortable fields; `edgekb build --single --config`) behind
                 five filter texts (syntax and JSON).
query_parser:    the golden queries (tests/golden/queries.txt), and a few long ones.
postings_decode: real postings, positions and store bytes cut out of the fixtures (the
                 many-blocks one gives terms with skip tables and impacts), and their
                 DISPLAY sections as a store, in the target's input layout (see
                 fuzz_targets/postings_decode.rs).
split_search:    seeds/split-tiny (format 3, `edgekb build --split` of seeds/tiny.jsonl: a whole
                 dictionary, an empty terms pack, hit-display data resident in the dictionary)
                 and seeds/split-tiny-cut (the same with `--resident-dictionary-bytes 0
                 --dictionary-part-bytes 64 --resident-display-bytes 0`: a ROUTER section, 3
                 dictionary parts in the terms pack, hit-display data in its pack), each in the target's input layout
                 (format 2: five packs) once per host behaviour, and their manifest.json as is;
                 seeds/split-v11 and seeds/split-v11-cut (format 11, split layout 5: the same two
                 commands with `--resident-norms-bytes 0`, so a norms pack, page CRCs in the
                 pages' trailers), in the six-pack layout (flag 64) once per host behaviour;
                 seeds/split-v12 (format 12, split layout 6: the first command with
                 `--resident-norms-bytes 0`; its dictionary holds its manifest), likewise.
postings_decode also gets format 11's stores (the fixture's STORE with its preset
                 dictionary, and its DISPLAY) with a field-count byte that selects format 11.
Reads only the index format (docs/FORMAT.md).
"""
import os
import struct
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
FIXTURES = {v: os.path.join(ROOT, "tests", "compat", v, "fixture.ekb") for v in ("v1", "v2", "v3")}
# Format 3 with terms of several postings blocks (skip tables and block impacts).
FIXTURES["v3-blocks"] = os.path.join(ROOT, "tests", "compat", "v3", "blocks.ekb")
QUERIES = os.path.join(ROOT, "tests", "golden", "queries.txt")
CORPUS = os.path.join(FUZZ, "corpus")
TERM_BLOCK, TERM_BLOCK_HEADER = 32, 16
META, TERM_INFO, POSTINGS, POSITIONS, FIELD_NORMS, STORE, DISPLAY = 1, 3, 4, 5, 6, 7, 10
# A split index's pack files, in the target's input order (`DataFile::ALL`); the display pack
# is the rest of the input.
PACKS = ("postings", "positions", "store", "terms", "display")
SPLIT_SEEDS = ("split-tiny", "split-tiny-cut")
# Format 11 split seeds (split layout 5): six packs, the norms pack last (input flag 64).
SPLIT_SEEDS_V11 = ("split-v11", "split-v11-cut")
# Format 12, split layout 6: the dictionary holds its manifest (served as `dictionary.bin`, the
# index opens from it); six packs like format 11's.
SPLIT_SEEDS_V12 = ("split-v12",)
PACKS_V11 = PACKS + ("norms",)
# Format 11's fixture: an index for open_and_search, stores for postings_decode (its term
# info is laid out differently from format 3's, which `term_info` reads).
FIXTURE_V11 = os.path.join(ROOT, "tests", "compat", "v11", "fixture.ekb")
HOST_FLAGS = (0, 1, 2, 4, 8, 0x30, 0x31)


def unpack_one(data, width, i):
    if width == 0:
        return 0
    bit = i * width
    acc = int.from_bytes(data[bit // 8:(bit + width + 7) // 8], "little")
    return (acc >> (bit % 8)) & ((1 << width) - 1)


def packed_len(n, width):
    return (n * width + 7) // 8


def sections(b):
    assert b[:8] == b"EDGEKBIX", "not an index"
    _version, count, _crc, _ = struct.unpack_from("<IIII", b, 8)
    out = {}
    for k in range(count):
        kind, _crc, off, ln = struct.unpack_from("<IIQQ", b, 24 + 24 * k)
        out[kind] = b[off:off + ln]
    return out


def term_info(section, term_count, ord_):
    blocks = (term_count + TERM_BLOCK - 1) // TERM_BLOCK
    b, i = divmod(ord_, TERM_BLOCK)
    p_base, q_base, data_off, w_df, w_pl, w_pos = struct.unpack_from(
        "<IIIBBB", section, b * TERM_BLOCK_HEADER)
    n = min(term_count - b * TERM_BLOCK, TERM_BLOCK)
    data = section[blocks * TERM_BLOCK_HEADER + data_off:]
    dfs = data[:packed_len(n, w_df)]
    pls = data[len(dfs):len(dfs) + packed_len(n, w_pl)]
    poss = data[len(dfs) + len(pls):]
    p = p_base + sum(unpack_one(pls, w_pl, k) for k in range(i))
    q = q_base + sum(unpack_one(poss, w_pos, k) for k in range(i))
    return (unpack_one(dfs, w_df, i), (p, p + unpack_one(pls, w_pl, i)),
            (q, q + unpack_one(poss, w_pos, i)))


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def split_input(split, packs=PACKS):
    """The files of a split index directory in split_search's input layout (without flags):
    every file length-prefixed but the last pack."""
    names = os.listdir(split)

    def part(kind):
        found = [n for n in names if n.startswith(kind + ".") and n.endswith(".bin")]
        assert len(found) == 1, f"{split}: {len(found)} {kind} files; rebuild it (see README.md)"
        with open(os.path.join(split, found[0]), "rb") as f:
            return f.read()

    dictionary, *packs = (part(k) for k in ("dictionary",) + packs)
    return b"".join(struct.pack("<I", len(x)) + x for x in [dictionary] + packs[:-1]) + packs[-1]


def main():
    for v, path in FIXTURES.items():
        with open(path, "rb") as f:
            write("open_and_search", f"fixture-{v}.ekb", f.read())
    with open(FIXTURE_V11, "rb") as f:
        write("open_and_search", "fixture-v11.ekb", f.read())
    for name in ("tiny.ekb", "tiny-v2.ekb", "tiny-v3.ekb", "tiny-v11.ekb"):
        with open(os.path.join(FUZZ, "seeds", name), "rb") as f:
            write("open_and_search", name, f.read())
    # Split dictionaries: PAGES, and ROUTER for the cut one, as Index::open reads them.
    for seed in SPLIT_SEEDS + SPLIT_SEEDS_V11 + SPLIT_SEEDS_V12:
        split = os.path.join(FUZZ, "seeds", seed)
        name = next(n for n in os.listdir(split) if n.startswith("dictionary."))
        with open(os.path.join(split, name), "rb") as f:
            write("open_and_search", f"{seed}-dictionary", f.read())

    with open(QUERIES, encoding="utf-8") as f:
        queries = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    for k, q in enumerate(queries):
        write("query_parser", f"golden-{k:02}", q.encode())
    # Long ones, which libFuzzer's slowly growing length limit takes long to reach: the clause
    # budget, words past the typo automaton's length, runs of operators and quotes.
    long = ["w " * 100, "a" * 40 + " strategy" * 5, '"' * 51 + "real time", "-" * 200 + "x",
            "東京駅" * 60, "OR " * 50 + "git", "title:" * 30 + "git", "stratgy compresion " * 20]
    for k, q in enumerate(long):
        write("query_parser", f"long-{k}", q.encode())
    # query_budget: a flags byte (limit, prefix, typos, any, exhaustive), then the query.
    for k, q in enumerate(queries + long):
        for flags in (0x6a, 0xf5):
            write("query_budget", f"q-{k:02}-{flags:02x}", bytes([flags]) + q.encode())

    # facets: a filter text, NUL, then an index with FACETS and SYNONYMS sections.
    with open(os.path.join(FUZZ, "seeds", "facets.ekb"), "rb") as f:
        facets = f.read()
    for k, text in enumerate(["", "tags:web", "tags:devel::lang:* OR tags:role::*",
                              '{"and": [{"field": "tags", "prefix": "devel::"}, {"not": "tags:web"}]}',
                              '{"or": [{"field": "tags", "value": "web"}]}']):
        write("facets", f"facets-{k}", text.encode() + b"\0" + facets)

    n_postings = 0
    for v, path in FIXTURES.items():
        with open(path, "rb") as f:
            s = sections(f.read())
        doc_count, term_count = struct.unpack_from("<II", s[META], 0)
        fields = len(s[FIELD_NORMS]) // doc_count if doc_count else 1
        infos = [term_info(s[TERM_INFO], term_count, o) for o in range(term_count)]
        # The most frequent terms (several blocks, many fields) and a few rare ones.
        picks = sorted(range(term_count), key=lambda o: -infos[o][0])[:6] + list(range(0, term_count, max(1, term_count // 6)))
        for o in picks:
            df, (p0, p1), (q0, q1) = infos[o]
            post, pos = s[POSTINGS][p0:p1], s[POSITIONS][q0:q1]
            head = struct.pack("<IIBH", df, doc_count, fields - 1, len(post))
            write("postings_decode", f"{v}-term-{o}-positions", head + post + pos)
            write("postings_decode", f"{v}-term-{o}-store", head + post + s[STORE])
            n_postings += 2
        if DISPLAY in s:
            # Display records hold 3 fields (id, title, url): field_count byte 2.
            df, (p0, p1), _ = infos[picks[0]]
            post = s[POSTINGS][p0:p1]
            head = struct.pack("<IIBH", df, doc_count, 2, len(post))
            write("postings_decode", f"{v}-display", head + post + s[DISPLAY])
            n_postings += 1
    # Format 11's two stores as the tail (no postings): field-count bit 7 selects format 11's
    # store reader; an odd df reads deflate chunks (STORE, with its preset dictionary: the
    # schema's stored fields but id, title and url, which DISPLAY holds), an even one LZ4
    # chunks (DISPLAY, three fields).
    with open(FIXTURE_V11, "rb") as f:
        s = sections(f.read())
    doc_count = struct.unpack_from("<I", s[META], 0)[0]
    for name, df, fields in (("store", 1, 2), ("display", 2, 3)):
        head = struct.pack("<IIBH", df, doc_count, 0x80 | (fields - 1), 0)
        write("postings_decode", f"v11-{name}", head + s[STORE if name == "store" else DISPLAY])
        n_postings += 1

    for seeds, packs, layout in ((SPLIT_SEEDS, PACKS, 0), (SPLIT_SEEDS_V11, PACKS_V11, 64),
                                 (SPLIT_SEEDS_V12, PACKS_V11, 64)):
        for seed in seeds:
            split = os.path.join(FUZZ, "seeds", seed)
            body = split_input(split, packs)
            for flags in HOST_FLAGS:
                write("split_search", f"{seed}-flags-{flags:02x}",
                      bytes([flags | layout, 7]) + body)
            with open(os.path.join(split, "manifest.json"), "rb") as f:
                write("split_search", f"{seed}-manifest.json", f.read())
    splits = len(SPLIT_SEEDS) + len(SPLIT_SEEDS_V11) + len(SPLIT_SEEDS_V12)
    print(f"seeds: {len(FIXTURES) + 5 + splits} indexes, {len(queries) + len(long)} queries, "
          f"{n_postings} postings/store inputs, {splits * (len(HOST_FLAGS) + 1)} "
          f"split inputs", file=sys.stderr)


if __name__ == "__main__":
    main()
