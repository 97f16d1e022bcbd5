#!/usr/bin/env python3
"""Known-item query sets on a documentation site: the Python 3.11 HTML reference that Debian's
`python3.11-doc` package ships (`apt-get install python3.11-doc`).

    scripts/known_item/generate_docs.py [--html /usr/share/doc/python3.11/html]
                                        [--seed 2718] [--per-class 300] [--out target/known-docs]

Writes <out>/docs.jsonl (one document per page: id = path under the HTML folder, title = the
page's <h1>, body = the text of its main content, path = the HTML file, so a peer can index the
page itself), <out>/queries.jsonl and <out>/targets.tsv (query id, class, wanted page), like
generate.py does for the Debian packages.

Pages: every .html file except the generated indexes (genindex*, py-modindex, search) and pages
without a main content block. Words are ASCII-letter runs of the text, lower-cased (as in
generate.py); document frequency (df) counts pages whose title+body contain the word. Each class
draws pages in random order (one `random.Random(seed)`, classes in the order below), at most one
query per page and class, a duplicate query string skipped.

- api: a Python object the page defines (`<dt class="sig sig-object py" id="termios.tcflow">`)
  whose last dotted component has >= 4 characters and is the last component of no definition on
  another page; the query is that component (`tcflow`) or, half of the time when the name is
  dotted, the whole dotted name (`termios.tcflow`);
- title: two different title words (>= 3 letters, not stop words) co-occurring in <= 10 pages,
  in title order;
- module: a module page (its <h1> is `name — description`) whose name has >= 6 characters: the
  first 4 or 5 characters of the name (50/50), cut at the first character that is not a letter;
- typo: a title word of >= 6 letters with df <= 10 with one edit not at position 0 (deletion,
  substitution, transposition of two different adjacent letters, or insertion, uniformly) whose
  result occurs nowhere in the corpus.
"""
import argparse
import html.parser
import json
import os
import random
import re

from generate import draw, one_edit  # the same drawing and files as the Debian sets

# edgekb's English stop words (src/analysis/mod.rs), as in generate.py.
STOP = set(
    "a an and are as at be but by for from has have if in into is it its no not of on or such "
    "that the their then there these they this to was were which will with".split()
)
BLOCK = set(
    "p div dt dd li ul ol h1 h2 h3 h4 h5 h6 pre tr td th br section table blockquote "
    "dl figure caption".split()
)
SKIP = {"script", "style"}


def words(text):
    return re.findall(r"[a-z]+", text.lower())


class Page(html.parser.HTMLParser):
    """The <h1> text, the main content's text and the ids of Python object definitions."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # open <div>s inside the main content (0: outside)
        self.skip = 0
        self.in_h1 = False
        self.link_anchor = 0  # inside a headerlink (the ¶ sign)
        self.h1 = []
        self.body = []
        self.defs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and self.depth == 0 and a.get("role") == "main":
            self.depth = 1
            return
        if self.depth == 0:
            return
        if tag == "div":
            self.depth += 1
        if tag in SKIP:
            self.skip += 1
        if tag == "h1" and not self.h1:
            self.in_h1 = True
        if tag == "a" and "headerlink" in (a.get("class") or ""):
            self.link_anchor += 1
        if tag == "dt" and "sig-object" in (a.get("class") or "") and "py" in (a.get("class") or ""):
            if a.get("id"):
                self.defs.append(a["id"])
        if tag in BLOCK:
            self.body.append("\n")

    def handle_endtag(self, tag):
        if self.depth == 0:
            return
        if tag == "div":
            self.depth -= 1
        if tag in SKIP and self.skip:
            self.skip -= 1
        if tag == "h1":
            self.in_h1 = False
        if tag == "a" and self.link_anchor:
            self.link_anchor -= 1
        if tag in BLOCK:
            self.body.append("\n")

    def handle_data(self, data):
        if self.depth == 0 or self.skip or self.link_anchor:
            return
        if self.in_h1:
            self.h1.append(data)
        self.body.append(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--html", default="/usr/share/doc/python3.11/html")
    ap.add_argument("--seed", type=int, default=2718)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--out", default="target/known-docs")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    paths = []
    for root, dirs, files in os.walk(a.html):
        dirs[:] = sorted(d for d in dirs if not d.startswith("_"))
        for f in sorted(files):
            if f.endswith(".html") and not re.match(r"(genindex|py-modindex|search)", f):
                paths.append(os.path.join(root, f))
    paths.sort()
    docs = []  # (id, title, title words, all words, definitions)
    with open(os.path.join(a.out, "docs.jsonl"), "w", encoding="utf-8") as out:
        for p in paths:
            page = Page()
            with open(p, encoding="utf-8") as f:
                page.feed(f.read())
            title = re.sub(r"\s+", " ", "".join(page.h1)).strip()
            body = re.sub(r"[ \t]+", " ", "".join(page.body))
            body = re.sub(r"\s*\n\s*", "\n", body).strip()
            if not title or not body:
                continue
            pid = os.path.relpath(p, a.html)
            doc = {"id": pid, "title": title, "body": body, "path": os.path.abspath(p)}
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            tw = words(title)
            docs.append((pid, title, tw, set(tw) | set(words(body)), page.defs))
    postings = {}
    for i, d in enumerate(docs):
        for w in d[3]:
            postings.setdefault(w, set()).add(i)
    df = {w: len(p) for w, p in postings.items()}
    # Pages on which each last name component is defined.
    defined = {}
    for i, d in enumerate(docs):
        for name in d[4]:
            defined.setdefault(name.rsplit(".", 1)[-1], set()).add(i)

    rng = random.Random(a.seed)

    def api(i):
        names = sorted(
            {
                n
                for n in docs[i][4]
                if len(n.rsplit(".", 1)[-1]) >= 4 and defined[n.rsplit(".", 1)[-1]] == {i}
            }
        )
        if not names:
            return None
        n = rng.choice(names)
        if "." in n and rng.random() < 0.5:
            return n
        return n.rsplit(".", 1)[-1]

    def title(i):
        tw = [w for w in docs[i][2] if len(w) >= 3 and w not in STOP]
        pairs = sorted(
            {
                (x, y)
                for k, x in enumerate(tw)
                for y in tw[k + 1 :]
                if x != y and len(postings[x] & postings[y]) <= 10
            }
        )
        if not pairs:
            return None
        return " ".join(rng.choice(pairs))

    def module(i):
        m = re.match(r"([A-Za-z_][\w.]*) — ", docs[i][1])
        if not m or len(m.group(1)) < 6:
            return None
        cut = m.group(1)[: rng.choice([4, 5])]
        q = re.match(r"[A-Za-z]*", cut).group(0).lower()
        return q if len(q) >= 3 else None

    def typo(i):
        cands = sorted({w for w in docs[i][2] if len(w) >= 6 and df[w] <= 10})
        if not cands:
            return None
        w = rng.choice(cands)
        return one_edit(w, rng, df)

    queries, targets = draw(docs, [("api", api), ("title", title), ("module", module), ("typo", typo)],
                            rng, a.per_class, a.out)
    counts = {c: sum(1 for t in targets if t[1] == c) for c in ("api", "title", "module", "typo")}
    print(f"{len(docs)} pages, {len(queries)} queries {counts}, seed {a.seed} -> {a.out}")


if __name__ == "__main__":
    main()
