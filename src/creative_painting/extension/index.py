"""BM25 over Wikipedia titles and sentences with tantivy: on disk, bounded memory, resumable.

One document per sentence, carrying its article title; the title field is boosted so that "China"
finds the sentences of the article China first. tantivy's writer flushes segments at a fixed heap
size, so memory stays flat from 10 articles to 6.7 million.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from creative_painting.errors import UserError
from creative_painting.extension.corpus import Article
from creative_painting.extension.markup import split_sentences
from creative_painting.io import atomic_write_text

PROGRESS = "progress.json"
TFIDF_FILE = "tfidf.json"
TFIDF_SAMPLE = 200_000  # sentences kept (reservoir) to fit the index's own TF-IDF
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Passage:
    title: str
    text: str
    score: float


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("text", stored=True, tokenizer_name="en_stem")
    return builder.build()


def build_index(articles: Iterable[Article], index_dir: str | Path, *, commit_every: int = 5000,
                heap_bytes: int = 256 * 2**20, source: str = "", max_sentences: int = 0,
                progress: bool = True) -> dict:
    """Index `articles`; a re-run on the same source skips the articles already committed."""
    import tantivy

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    state_path = index_dir / PROGRESS
    state = json.loads(state_path.read_text()) if state_path.exists() else {"source": source, "articles": 0,
                                                                              "sentences": 0, "done": False}
    if state["source"] != source:
        raise UserError(f"{index_dir} holds an index of {state['source']!r}; use a new folder for {source!r}")
    index = tantivy.Index(_schema(), path=str(index_dir))
    writer = index.writer(heap_size=heap_bytes, num_threads=1)
    rng, sample, seen = random.Random(0), [], 0
    skip = state["articles"]
    bar = tqdm(unit="article", desc="index", disable=not progress, initial=skip)
    for number, article in enumerate(articles):
        if number < skip:
            continue
        sentences = split_sentences(article.text)
        if max_sentences:
            sentences = sentences[:max_sentences]
        for sentence in sentences:
            writer.add_document(tantivy.Document(title=article.title, text=sentence))
            seen += 1  # reservoir sample for the TF-IDF fit
            if len(sample) < TFIDF_SAMPLE:
                sample.append(sentence)
            elif (j := rng.randrange(seen)) < TFIDF_SAMPLE:
                sample[j] = sentence
        state["articles"], state["sentences"] = number + 1, state["sentences"] + len(sentences)
        bar.update(1)
        if state["articles"] % commit_every == 0:
            writer.commit()
            atomic_write_text(state_path, json.dumps(state))
    writer.commit()
    writer.wait_merging_threads()
    bar.close()
    if state["sentences"] == 0:
        raise UserError("the source holds no article text to index")
    if sample:
        from creative_painting.extension.tfidf import TfidfModel

        TfidfModel.fit(sample).save(index_dir / TFIDF_FILE)
    state["done"] = True
    atomic_write_text(state_path, json.dumps(state))
    return state


class WikiIndex:
    """A built index, opened read-only."""

    def __init__(self, index_dir: str | Path, title_boost: float = 2.0):
        import tantivy

        self.dir = Path(index_dir)
        state = self.dir / PROGRESS
        if not state.is_file() or not json.loads(state.read_text()).get("done"):
            raise UserError(f"no finished index at {self.dir}: build one with `creative-painting wiki index SOURCE "
                            f"{self.dir}`")
        self.index = tantivy.Index.open(str(self.dir))
        self.index.reload()
        self.searcher = self.index.searcher()
        self.title_boost = title_boost

    @property
    def tfidf_path(self) -> Path:
        return self.dir / TFIDF_FILE

    def search(self, text: str, k: int = 20) -> list[Passage]:
        """BM25 over title (boosted) and sentence; any text works, query syntax is never interpreted."""
        words = [w for w in _WORD.findall(text.lower()) if w not in ("and", "or", "not")]
        if not words:
            return []
        query = self.index.parse_query(" ".join(words), ["title", "text"], field_boosts={"title": self.title_boost})
        hits = self.searcher.search(query, k).hits
        passages = []
        for score, address in hits:
            doc = self.searcher.doc(address)
            passages.append(Passage(doc["title"][0], doc["text"][0], float(score)))
        return passages
