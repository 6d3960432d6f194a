"""BM25 over Wikipedia titles and sentences with tantivy: on disk, bounded memory, resumable.

One document per sentence, carrying its article title; the title field is boosted so that "China"
finds the sentences of the article China first. tantivy's writer flushes segments at a fixed heap
size, so memory stays flat from 10 articles to 6.7 million.
"""

from __future__ import annotations

import gc
import json
import random
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from creative_painting.errors import UserError
from creative_painting.extension.corpus import Article
from creative_painting.extension.markup import split_sentences
from creative_painting.files import atomic_write_text, is_empty, run_lock

PROGRESS = "progress.json"
RESERVOIR = "reservoir.json"  # the TF-IDF sentence sample of an unfinished build
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


class _Reservoir:
    """Algorithm R over every indexed sentence, saved with each commit so a resumed build fits the same TF-IDF."""

    def __init__(self, path: Path):
        self.path = path
        self.rng, self.sample, self.seen = random.Random(0), [], 0
        if path.is_file():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                self.sample, self.seen = list(saved["sample"]), int(saved["seen"])
                version, internal, gauss = saved["rng"]
                self.rng.setstate((version, tuple(internal), gauss))
            except (ValueError, KeyError, TypeError) as e:
                raise UserError(f"corrupt {path} in a resumable index: {e}; delete the index folder to rebuild") from None

    def add(self, sentence: str) -> None:
        self.seen += 1
        if len(self.sample) < TFIDF_SAMPLE:
            self.sample.append(sentence)
        elif (j := self.rng.randrange(self.seen)) < TFIDF_SAMPLE:
            self.sample[j] = sentence

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps({"seen": self.seen, "sample": self.sample, "rng": self.rng.getstate()}))


def read_progress(index_dir: Path) -> dict | None:
    """The build state of an index folder (None if it has none); a damaged one is a one-line error."""
    path = index_dir / PROGRESS
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict) or not isinstance(state.get("articles"), int):
            raise ValueError("not a progress record")
    except (OSError, ValueError) as e:
        raise UserError(f"corrupt {path}: {e}; delete {index_dir} to rebuild the index") from None
    return state


def build_index(articles: Iterable[Article], index_dir: str | Path, *, commit_every: int = 5000,
                heap_bytes: int = 256 * 2**20, source: str = "", max_sentences: int = 0,
                progress: bool = True, reopen: Callable[[int], Iterable[Article]] | None = None) -> dict:
    """Index `articles`; a re-run on the same source resumes after the articles already committed.

    `reopen(position)` restarts the source at a saved byte position (JSONL), so a resumed run does not
    parse what it skips. A finished index is left as it is. A run that fails before its first commit
    leaves no folder behind; a later failure leaves a folder the next run resumes.
    """
    index_dir = Path(index_dir)
    if max_sentences < 0:
        raise UserError(f"--max-sentences must be 0 (every sentence) or more, got {max_sentences}")
    if heap_bytes < 16 * 2**20:
        raise UserError("--heap-mb must be at least 16 (tantivy's smallest writer heap)")
    state = read_progress(index_dir) if index_dir.is_dir() else None
    if state is None and not is_empty(index_dir):
        raise UserError(f"{index_dir} is not empty and holds no index; choose a new or empty folder")
    if state is not None and state.get("source") != source:
        raise UserError(f"{index_dir} holds an index of {state.get('source')!r}; use a new folder for {source!r}")
    if state is not None and state.get("done"):
        return {**state, "complete": True}
    created = not index_dir.exists()
    with run_lock(index_dir):
        try:
            state = _index(articles, index_dir, state or {"source": source, "articles": 0, "sentences": 0,
                                                          "done": False},
                           commit_every=commit_every, heap_bytes=heap_bytes, max_sentences=max_sentences,
                           progress=progress, reopen=reopen)
        except BaseException:
            gc.collect()  # tantivy releases its own lock file when its writer is freed
            if not (index_dir / PROGRESS).exists():  # nothing committed: leave the folder as it was (new or empty)
                for child in index_dir.iterdir() if not created else []:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
                if created:
                    shutil.rmtree(index_dir, ignore_errors=True)
            raise
    return state


def _index(articles, index_dir: Path, state: dict, *, commit_every: int, heap_bytes: int, max_sentences: int,
           progress: bool, reopen) -> dict:
    import tantivy

    state_path = index_dir / PROGRESS
    try:
        index = tantivy.Index(_schema(), path=str(index_dir))
        writer = index.writer(heap_size=heap_bytes, num_threads=1)
    except ValueError as e:
        raise UserError(f"cannot open the index in {index_dir}: {e}; delete it to rebuild") from None
    reservoir = _Reservoir(index_dir / RESERVOIR)
    skip = state["articles"]
    if skip and reopen is not None and state.get("position") is not None:
        numbered = enumerate(reopen(state["position"]), start=skip)  # no need to parse what is skipped
    else:
        numbered = enumerate(articles)
    bar = tqdm(unit="article", desc="index", disable=not progress, initial=skip)
    try:
        for number, article in numbered:
            if number < skip:
                continue
            sentences = split_sentences(article.text)
            if max_sentences:
                sentences = sentences[:max_sentences]
            for sentence in sentences:
                writer.add_document(tantivy.Document(title=article.title, text=sentence))
                reservoir.add(sentence)
            state.update(articles=number + 1, sentences=state["sentences"] + len(sentences), position=article.position)
            bar.update(1)
            if state["articles"] % commit_every == 0:
                writer.commit()
                reservoir.save()
                atomic_write_text(state_path, json.dumps(state))
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:
        del writer, index  # the traceback keeps this frame: free the writer now, so that it drops its lock file
        raise
    finally:
        bar.close()
    if state["sentences"] == 0:
        raise UserError("the source holds no article text to index")
    if reservoir.sample:
        from creative_painting.extension.tfidf import TfidfModel

        TfidfModel.fit(reservoir.sample).save(index_dir / TFIDF_FILE)
    state["done"] = True
    atomic_write_text(state_path, json.dumps(state))
    (index_dir / RESERVOIR).unlink(missing_ok=True)
    return state


class WikiIndex:
    """A built index, opened read-only."""

    def __init__(self, index_dir: str | Path, title_boost: float = 2.0):
        import tantivy

        self.dir = Path(index_dir)
        state = read_progress(self.dir)
        if not state or not state.get("done"):
            raise UserError(f"no finished index at {self.dir}: build one with `creative-painting wiki index SOURCE "
                            f"{self.dir}`")
        try:
            self.index = tantivy.Index.open(str(self.dir))
            self.index.reload()
            self.searcher = self.index.searcher()
            self.searcher.search(self.index.parse_query("probe", ["title", "text"]), 1)
        except ValueError as e:  # tantivy reports damaged meta.json / segment files as ValueError
            raise UserError(f"damaged index at {self.dir}: {str(e).splitlines()[0][:160]}; rebuild it "
                            "with `creative-painting wiki index`") from None
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
        try:
            hits = self.searcher.search(query, k).hits
            docs = [(score, self.searcher.doc(address)) for score, address in hits]
        except ValueError as e:
            raise UserError(f"damaged index at {self.dir}: {str(e).splitlines()[0][:160]}; rebuild it") from None
        return [Passage(doc["title"][0], doc["text"][0], float(score)) for score, doc in docs]
