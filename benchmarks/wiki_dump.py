"""A synthetic Wikipedia dump with the real one's shape: a `*-multistream.xml.bz2` in MediaWiki's export format
(a header stream, then streams of 100 pages) and its `*-multistream-index.txt.bz2`, as Wikimedia publishes them.

Article lengths follow a log-normal fitted to English Wikipedia's (median about 2.6 kB of wikitext, a long tail up
to a few hundred kB); the markup is what real articles carry: an infobox template, bold lead, links and piped
links, references with citation templates, section headings, a table, files, categories; redirects and talk
pages are mixed in as the dump has them. The words are drawn from a Zipf vocabulary, so BM25 sees a real-looking
term distribution. Deterministic for a seed.

    .venv/bin/python benchmarks/wiki_dump.py OUT_DIR --articles 172000 [--seed 0]
"""

from __future__ import annotations

import argparse
import bz2
import math
import random
from pathlib import Path
from xml.sax.saxutils import escape

FULL_SIZE = 6_900_000  # English Wikipedia's articles (issue 42)
REDIRECT_SHARE = 0.4  # redirects among main-namespace pages, about as in enwiki's pages-articles
PAGES_PER_STREAM = 100


def vocabulary(rng: random.Random, size: int = 50_000) -> tuple[list[str], list[float]]:
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    words = {"".join(rng.choices(letters, weights=range(26, 0, -1), k=rng.randint(2, 11))) for _ in range(size * 2)}
    words = sorted(words)[:size]
    rng.shuffle(words)
    return words, [1.0 / (k + 1) ** 1.07 for k in range(len(words))]


class Writer:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.words, weights = vocabulary(rng)
        total = sum(weights)
        self.cum = []
        acc = 0.0
        for w in weights:
            acc += w / total
            self.cum.append(acc)

    def sentence(self) -> str:
        n = max(4, int(self.rng.gauss(18, 7)))
        words = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        out = []
        for w in words:
            r = self.rng.random()
            if r < 0.06:
                out.append(f"[[{w}]]")
            elif r < 0.08:
                out.append(f"[[{w} {self.rng.choice(self.words)}|{w}]]")
            elif r < 0.09:
                out.append(str(self.rng.randint(1000, 2025)))
            else:
                out.append(w)
        text = " ".join(out)
        if self.rng.random() < 0.3:
            text += f'.<ref>{{{{cite web|url=https://example.org/{self.rng.randint(1, 10**6)}|title={words[0]}}}}}</ref>'
            return text[0].upper() + text[1:]
        return text[0].upper() + text[1:] + "."

    def article(self, title: str) -> str:
        size = min(400_000, int(math.exp(self.rng.gauss(math.log(2600), 1.1))))
        parts = [f"{{{{Infobox thing|name={title}|image=x.jpg|founded={self.rng.randint(1000, 2020)}}}}}",
                 f"'''{title}''' " + self.sentence()]
        length = sum(map(len, parts))
        while length < size:
            r = self.rng.random()
            if r < 0.06:
                piece = f"\n== {self.rng.choice(self.words).title()} ==\n"
            elif r < 0.08:
                piece = ('\n{| class="wikitable"\n|-\n! A !! B\n|-\n| ' + self.rng.choice(self.words)
                         + f" || {self.rng.randint(1, 10**5)}\n|}}\n")
            elif r < 0.09:
                piece = f"\n[[File:{self.rng.choice(self.words)}.jpg|thumb|{self.sentence()}]]\n"
            else:
                piece = " ".join(self.sentence() for _ in range(self.rng.randint(1, 5))) + "\n"
            parts.append(piece)
            length += len(piece)
        parts.append(f"\n[[Category:{self.rng.choice(self.words).title()}]]")
        return "".join(parts)


def page(title: str, page_id: int, text: str, ns: int = 0, redirect: str | None = None) -> str:
    red = f'    <redirect title="{escape(redirect)}" />\n' if redirect else ""
    return (f"  <page>\n    <title>{escape(title)}</title>\n    <ns>{ns}</ns>\n    <id>{page_id}</id>\n{red}"
            f"    <revision>\n      <id>{page_id * 7}</id>\n      <text bytes=\"{len(text)}\" xml:space=\"preserve\">"
            f"{escape(text)}</text>\n    </revision>\n  </page>\n")


def write_dump(out: Path, articles: int, seed: int = 0, progress: bool = True) -> tuple[Path, Path]:
    """(dump, index): `articles` main-namespace articles, plus redirects and a few talk pages."""
    from tqdm import tqdm

    rng, out = random.Random(seed), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writer = Writer(rng)
    dump, index = out / "synwiki-multistream.xml.bz2", out / "synwiki-multistream-index.txt.bz2"
    header = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">\n'
              "  <siteinfo>\n    <sitename>Synthetic Wikipedia</sitename>\n  </siteinfo>\n")
    made, page_id, titles = 0, 0, []
    with open(dump, "wb") as f, bz2.open(index, "wt", encoding="utf-8") as idx, \
            tqdm(total=articles, unit="article", desc="dump", disable=not progress) as bar:
        f.write(bz2.compress(header.encode()))
        while made < articles:
            offset, pages = f.tell(), []
            for _ in range(PAGES_PER_STREAM):
                page_id += 1
                r = rng.random()
                if r < REDIRECT_SHARE and titles:
                    target = rng.choice(titles)
                    title = f"{target} ({rng.choice(writer.words)})"
                    pages.append((title, page(title, page_id, f"#REDIRECT [[{target}]]", redirect=target)))
                elif r < REDIRECT_SHARE + 0.01:
                    title = f"Talk:{rng.choice(writer.words).title()}"
                    pages.append((title, page(title, page_id, writer.sentence(), ns=1)))
                elif made < articles:
                    title = " ".join(w.title() for w in rng.choices(writer.words, k=rng.randint(1, 3)))
                    titles.append(title) if len(titles) < 100_000 else None
                    pages.append((title, page(title, page_id, writer.article(title))))
                    made += 1
                    bar.update(1)
            f.write(bz2.compress("".join(p for _, p in pages).encode()))
            for k, (title, _) in enumerate(pages):
                idx.write(f"{offset}:{page_id - len(pages) + k + 1}:{title}\n")
        f.write(bz2.compress(b"</mediawiki>\n"))
    return dump, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=FULL_SIZE // 40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dump, index = write_dump(args.out, args.articles, args.seed)
    print(f"{dump} ({dump.stat().st_size / 2**20:,.1f} MB), {index}")


if __name__ == "__main__":
    main()
