"""BM25 over Wikipedia titles and sentences with tantivy: on disk, bounded memory, resumable.

One document per sentence, carrying its article title; the title field is boosted so that "China"
finds the sentences of the article China first. tantivy's writer flushes segments at a fixed heap
size, so memory is bounded: 1.7 GB at 1/20 and at 1/10 of Wikipedia (docs/benchmarks.md).

A large index may be split into shards (sentence n in shard n % shards, each a tantivy index of its own in
`shard-N/`), searched side by side: tantivy-py searches one index in one thread, and a query's time grows with the
index (1/10 of Wikipedia on 2 cores: p50 5.2-6.8 ms in one, 3.1-3.8 ms in two shards). Each shard ranks by its own
BM25 statistics, as Elasticsearch's shards do by default: a sentence's score moves by 0.03 % at the median there.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import random
import re
import secrets
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from creative_painting.errors import UserError
from creative_painting.extension.corpus import Article
from creative_painting.extension.markup import split_sentences
from creative_painting.files import LOCK, atomic_write_text, run_lock
from creative_painting.parallel import usable_cores

PROGRESS = "progress.json"
RESERVOIR = "reservoir.json"  # the TF-IDF sentence sample of an unfinished build
PENDING = ".pending"  # a commit's record, written before the commit
TFIDF_FILE = "tfidf.json"
COMMON_FILE = "common_words.json"  # left out of queries: stop words and words in over 5 % of sentences
# ... in an index of more than this many sentences, where their posting lists set a query's time (1/20 of
# Wikipedia, 9 M sentences: 57 ms p50 with them); below it every query takes a few ms and ranking stays as it was
COMMON_ABOVE = 1_000_000
TFIDF_SAMPLE = 200_000  # sentences kept (reservoir) to fit the index's own TF-IDF
_WORD = re.compile(r"\w+")
SHARD = "shard-{}"
MAX_SHARDS = 64
SHARD_HEAP = 16 * 2**20  # tantivy's smallest writer heap (15,000,000 bytes), rounded up: a shard has a writer of its own
SHARDED_ABOVE = 2**28  # bytes of a multistream dump (about 1/100 of Wikipedia's 24 GB) above which it is sharded by default


def default_shards(source_bytes: int, heap_bytes: int) -> int:
    """One index, or for a multistream dump over `SHARDED_ABOVE` a shard a core, as many as the writer heap allows."""
    if source_bytes <= SHARDED_ABOVE:
        return 1
    return max(1, min(usable_cores(), MAX_SHARDS, heap_bytes // SHARD_HEAP))


def _shard_folders(index_dir: Path, shards: int) -> list[Path]:
    """Where each shard's tantivy index lives: the index folder itself when there is one shard."""
    return [index_dir] if shards == 1 else [index_dir / SHARD.format(i) for i in range(shards)]

TIES = 200  # hits beyond k read at first, to find those that tie the k-th: with 20, 115 of 300 queries on 1/10
# of Wikipedia searched again, with 200 13 (docs/benchmarks.md, Wikipedia at scale)


@dataclass(frozen=True)
class Passage:
    title: str
    text: str
    score: float


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    for field in ("title", "text"):  # no positions: every query is words, never a phrase (10 % of an index's size)
        builder.add_text_field(field, stored=True, tokenizer_name="en_stem", index_option="freq")
    return builder.build()


class _Reservoir:
    """Algorithm R over every indexed sentence, saved with each commit so a resumed build fits the same TF-IDF."""

    def __init__(self, path: Path):
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

    def save(self, path: Path) -> None:
        atomic_write_text(path,
                          json.dumps({"seen": self.seen, "sample": self.sample, "rng": self.rng.getstate()}))


def read_progress(index_dir: Path) -> dict | None:
    """The build state of an index folder (None if it has none); a damaged one is a one-line error."""
    path = index_dir / PROGRESS
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict) or not isinstance(state.get("articles"), int):
            raise ValueError("not a progress record")
        shards = state.get("shards", 1)
        if type(shards) is not int or not 1 <= shards <= MAX_SHARDS:
            raise ValueError(f"shards must be a whole number in 1..{MAX_SHARDS}, not {shards!r}")
    except (OSError, ValueError) as e:
        raise UserError(f"corrupt {path}: {e}; delete {index_dir} to rebuild the index") from None
    return state


def _commit(writer, reservoir: _Reservoir, state: dict, index_dir: Path) -> None:
    """tantivy's commit and our record of it (progress, TF-IDF sample) cannot be one write. The record is written
    first, as pending, and made current after the commit; a build killed in between is settled by `_settle`.
    A sharded build commits each shard so (its record: the articles it holds up to, its sentence count), then
    records the whole; a build killed between shards resumes each shard after its own last commit."""
    if isinstance(writer, _Shards):
        writer.commit(state["articles"])
        writer = None
    reservoir.save(index_dir / (RESERVOIR + PENDING))
    atomic_write_text(index_dir / (PROGRESS + PENDING), json.dumps(state))
    if writer is not None:
        writer.commit()
    _promote(index_dir)


def _promote(index_dir: Path) -> None:
    if (pending := index_dir / (RESERVOIR + PENDING)).is_file():
        os.replace(pending, index_dir / RESERVOIR)
    os.replace(index_dir / (PROGRESS + PENDING), index_dir / PROGRESS)


def _settle(index_dir: Path) -> dict | None:
    """The build state, after a kill between a commit and its record: the pending record holds if the index has
    its document count (one document per sentence, none ever deleted), else the one before it does."""
    pending = index_dir / (PROGRESS + PENDING)
    if pending.is_file():
        import tantivy

        try:
            record = json.loads(pending.read_text(encoding="utf-8"))
            if record.get("shards", 1) > 1:  # written after every shard's commit: it holds
                _promote(index_dir)
                return read_progress(index_dir)
            expected = record["sentences"]
            index = tantivy.Index.open(str(index_dir))
            index.reload()
            committed = index.searcher().num_docs == expected
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise UserError(f"corrupt {pending}: {e}; delete {index_dir} to rebuild the index") from None
        if committed:
            _promote(index_dir)
        else:
            pending.unlink()
            (index_dir / (RESERVOIR + PENDING)).unlink(missing_ok=True)
    return read_progress(index_dir)


def build_index(articles: Iterable[Article], index_dir: str | Path, *, commit_every: int = 5000,
                heap_bytes: int = 256 * 2**20, source: str = "", max_sentences: int = 0,
                progress: bool = True, reopen: Callable[[int], Iterable[Article]] | None = None,
                source_bytes: int = 0, shards: int | None = None) -> dict:
    """Index `articles`; a re-run on the same source resumes after the articles already committed.

    `reopen(position)` restarts the source at a saved byte position (JSONL), so a resumed run does not
    parse what it skips. A finished index is left as it is. A run that fails before its first commit
    leaves no folder behind; a later failure leaves a folder the next run resumes. `shards`: None for
    `default_shards`, or, resumed, the count the build was begun with; any other count is refused there.
    """
    index_dir = Path(index_dir)
    if max_sentences < 0:
        raise UserError(f"--max-sentences must be 0 (every sentence) or more, got {max_sentences}")
    if shards is not None and not 1 <= shards <= MAX_SHARDS:
        raise UserError(f"--shards must be in 1..{MAX_SHARDS}, got {shards}")
    _check_heap(heap_bytes, shards or 1)
    if index_dir.is_dir() and not (index_dir / PROGRESS).is_file():
        _check_ours(index_dir)  # before the lock, which would leave its file in a folder of the user's
    created = not index_dir.exists()
    with run_lock(index_dir):
        state = _settle(index_dir)  # under the lock: a running build's pending record is its own
        if state is None:
            _check_ours(index_dir)  # again, under the lock: nothing came in meanwhile
        else:
            _check_same_build(index_dir, state, source, shards)
            if state.get("done"):
                _check_shards_present(index_dir, state)
                return {**state, "complete": True}
            _check_heap(heap_bytes, state.get("shards", 1))
        try:
            if state is None:  # first: a folder killed before its first commit is still known as ours
                for leftover in index_dir.iterdir():  # (a kill inside this write leaves its temporary file)
                    if _leftover(leftover) and leftover.name != LOCK:
                        leftover.unlink()
                count = default_shards(source_bytes, heap_bytes) if shards is None else shards
                state = {"source": source, "articles": 0, "sentences": 0, "done": False,
                         **({"shards": count, "build": secrets.token_hex(8)} if count > 1 else {})}
                atomic_write_text(index_dir / PROGRESS, json.dumps(state))
            state = _index(articles, index_dir, state, commit_every=commit_every, heap_bytes=heap_bytes,
                           max_sentences=max_sentences, progress=progress, reopen=reopen, source_bytes=source_bytes)
        except BaseException as e:
            gc.collect()  # tantivy releases its own lock file when its writer is freed
            committed = (read_progress(index_dir) or {}).get("articles", 0)
            if not committed:  # nothing committed: leave the folder as it was
                for child in index_dir.iterdir() if not created else []:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
                if created:
                    shutil.rmtree(index_dir, ignore_errors=True)
            if _write_failed(e):
                free = shutil.disk_usage(index_dir if index_dir.exists() else index_dir.parent).free
                kept = (f"the {committed:,} articles committed are kept, and the same command resumes after them"
                        if committed else "nothing was committed, and the folder is left as it was")
                raise UserError(f"writing the index in {index_dir} failed ({str(e).splitlines()[0][:100]}), "
                                f"{free / 2**20:,.0f} MB free there: {kept}") from None
            raise
    return state


def _check_same_build(index_dir: Path, state: dict, source: str, shards: int | None) -> None:
    """A re-run resumes the build it finds only when asked for the same: another source or shard count is refused."""
    if state.get("source") != source:
        raise UserError(f"{index_dir} holds an index of {state.get('source')!r}; use a new folder for {source!r}")
    if shards is not None and state.get("shards", 1) != shards:
        raise UserError(f"{index_dir} was begun with --shards {state.get('shards', 1)}; run the same command "
                        f"with that count (or none) to resume it, or use a new folder for {shards}")


def _check_shards_present(index_dir: Path, state: dict) -> None:
    """A finished index is "complete" only with all its shards (a search would fail on the missing one)."""
    missing = [f.name for f in _shard_folders(index_dir, state.get("shards", 1)) if not (f / PROGRESS).is_file()]
    if missing:
        raise UserError(f"{index_dir} is a finished index without its {', '.join(missing)}; delete it to rebuild")


def _check_heap(heap_bytes: int, shards: int) -> None:
    """Each shard has a writer of its own, and tantivy refuses a writer below its smallest heap (with a message
    that would tell the user to delete the shard)."""
    if heap_bytes < SHARD_HEAP * shards:
        raise UserError(f"--heap-mb must be at least {SHARD_HEAP >> 20} a shard (tantivy's smallest writer heap), "
                        f"{(SHARD_HEAP >> 20) * shards} for {shards}; got {heap_bytes >> 20}")


def _check_ours(index_dir: Path) -> None:
    if not all(map(_leftover, index_dir.iterdir())):
        raise UserError(f"{index_dir} is not empty and holds no index; choose a new or empty folder")


def _leftover(path: Path) -> bool:
    """What a build killed before its first record leaves in its folder: the lock, the record's temporary file."""
    return path.name == LOCK or (path.name.startswith(f".{PROGRESS}.") and path.name.endswith(".tmp"))


def _write_failed(error: BaseException) -> bool:
    """A full disk while writing: tantivy reports its writer thread's io::Error as a ValueError ("An index writer
    was killed"), Python as an OSError with ENOSPC (or EDQUOT, a full quota). Other OSErrors, a source that cannot
    be read among them, are not the disk's and keep their own messages."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(error, ValueError) and "writer was killed" in str(error)


def _open_writer(folder: Path, heap_bytes: int):
    import tantivy

    try:
        if (folder / "meta.json").is_file():  # resumed: the schema it was begun with (before 2026-12-07, positions)
            index = tantivy.Index.open(str(folder))
        else:
            index = tantivy.Index(_schema(), path=str(folder))
        return index.writer(heap_size=heap_bytes, num_threads=1)
    except ValueError as e:
        raise UserError(f"cannot open the index in {folder}: {e}; delete it to rebuild") from None


class _Shards:
    """The writers of a sharded build. A shard skips the articles its own last commit holds, which may be more than
    the whole build's record (a build killed between the shards' commits), never fewer. Each shard's record names
    its build (a random token of the whole's record), so that a shard of another build is not taken for ours."""

    def __init__(self, index_dir: Path, whole: dict, heap_bytes: int):
        shards, articles, self.build = whole["shards"], whole["articles"], whole.get("build")
        self.folders, self.held, self.sentences = _shard_folders(index_dir, shards), [], []
        for folder in self.folders:
            state = _settle(folder) if folder.is_dir() else None
            if state is not None and state.get("build") != self.build:
                raise UserError(f"{folder} is a shard of another build; delete {index_dir} to rebuild the index")
            state = state or {"articles": 0, "sentences": 0}
            if state["articles"] < articles:  # its commits are gone: resumed, it would be short, silently
                raise UserError(f"{folder} holds {state['articles']:,} articles, the build's record {articles:,}: "
                                f"a shard was removed or is older; delete {index_dir} to rebuild the index")
            self.held.append(state["articles"])
            self.sentences.append(state["sentences"])
        for folder in self.folders:
            folder.mkdir(exist_ok=True)
        self.writers = [_open_writer(folder, heap_bytes // shards) for folder in self.folders]

    def add(self, number: int, first: int, title: str, sentences: list[str]) -> None:
        """Article `number`, whose sentences are the build's `first`, `first` + 1, ...: sentence i goes to shard
        i % shards, so a word that recurs in one article is spread over the shards as over the whole."""
        import tantivy

        for i, sentence in enumerate(sentences, start=first):
            shard = i % len(self.writers)
            if number >= self.held[shard]:
                self.writers[shard].add_document(tantivy.Document(title=title, text=sentence))
                self.sentences[shard] += 1

    def commit(self, articles: int) -> None:
        """Each shard as one index is committed (`_commit`), its record holding the build's article count."""
        for folder, writer, sentences in zip(self.folders, self.writers, self.sentences, strict=True):
            atomic_write_text(folder / (PROGRESS + PENDING),
                              json.dumps({"articles": articles, "sentences": sentences, "build": self.build}))
            writer.commit()
            _promote(folder)

    def wait_merging_threads(self) -> None:
        for writer in self.writers:
            writer.wait_merging_threads()


def _index(articles, index_dir: Path, state: dict, *, commit_every: int, heap_bytes: int, max_sentences: int,
           progress: bool, reopen, source_bytes: int = 0) -> dict:
    import tantivy

    shards = state.get("shards", 1)
    writer = _open_writer(index_dir, heap_bytes) if shards == 1 else _Shards(index_dir, state, heap_bytes)
    reservoir = _Reservoir(index_dir / RESERVOIR)
    skip = state["articles"]
    if skip and reopen is not None and state.get("position") is not None:
        numbered = enumerate(reopen(state["position"]), start=skip)  # no need to parse what is skipped
    else:
        numbered = enumerate(articles)
    bar = _Progress(skip, state.get("position"), source_bytes, progress)
    try:
        for number, article in numbered:
            if number < skip:
                continue
            sentences = list(article.sentences) if article.sentences is not None else split_sentences(article.text)
            if max_sentences:
                sentences = sentences[:max_sentences]
            if shards > 1:
                writer.add(number, state["sentences"], article.title, sentences)
            else:
                for sentence in sentences:
                    writer.add_document(tantivy.Document(title=article.title, text=sentence))
            for sentence in sentences:
                reservoir.add(sentence)
            state.update(articles=number + 1, sentences=state["sentences"] + len(sentences), position=article.position)
            bar.update(article.position)
            if state["articles"] % commit_every == 0:
                _commit(writer, reservoir, state, index_dir)
        _commit(writer, reservoir, state, index_dir)
        writer.wait_merging_threads()
    except BaseException:
        del writer  # the traceback keeps this frame: free the writer now, so that it drops its lock file
        raise
    finally:
        bar.close()
    if state["sentences"] == 0:
        raise UserError("the source holds no article text to index")
    if reservoir.sample:
        from creative_painting.extension.tfidf import TfidfModel

        model = TfidfModel.fit(reservoir.sample)
        model.save(index_dir / TFIDF_FILE)
        atomic_write_text(index_dir / COMMON_FILE, json.dumps(model.common_words()))
    state["done"] = True
    atomic_write_text(index_dir / PROGRESS, json.dumps(state))
    (index_dir / RESERVOIR).unlink(missing_ok=True)
    return state


class _Progress:
    """Articles per second; for a multistream dump (`source_bytes` given: its articles know their stream's byte
    offset) a bar over the dump's bytes, so the ETA is the dump's, with the article count and rate beside it."""

    def __init__(self, articles: int, position, source_bytes: int, enabled: bool):
        self.by_bytes, self.articles, self.start = bool(source_bytes), articles, articles
        self.bar = (tqdm(total=source_bytes, unit="B", unit_scale=True, desc="index", disable=not enabled,
                         initial=position[0] if position else 0)
                    if self.by_bytes else tqdm(unit="article", desc="index", disable=not enabled, initial=articles))

    def update(self, position) -> None:
        self.articles += 1
        if not self.by_bytes:
            self.bar.update(1)
        else:
            if position[0] > self.bar.n:
                self.bar.update(position[0] - self.bar.n)
            if self.articles % 100 == 0:
                rate = (self.articles - self.start) / max(self.bar.format_dict["elapsed"], 1e-9)
                self.bar.set_postfix_str(f"{self.articles:,} articles, {rate:,.0f}/s", refresh=False)

    def close(self) -> None:
        self.bar.close()


class WikiIndex:
    """A built index, opened read-only."""

    def __init__(self, index_dir: str | Path, title_boost: float = 2.0, common_above: int = COMMON_ABOVE):
        import tantivy

        self.dir = Path(index_dir)
        state = read_progress(self.dir)
        if not state or not state.get("done"):
            raise UserError(f"no finished index at {self.dir}: build one with `creative-painting wiki index SOURCE "
                            f"{self.dir}`")
        shards = state.get("shards", 1)
        try:
            self.shards = []  # (index, searcher) of each shard
            for folder in _shard_folders(self.dir, shards):
                index = tantivy.Index.open(str(folder))
                index.reload()
                searcher = index.searcher()
                searcher.search(index.parse_query("probe", ["title", "text"]), 1)
                self.shards.append((index, searcher))
        except ValueError as e:  # tantivy reports damaged meta.json / segment files as ValueError
            raise UserError(f"damaged index at {self.dir}: {str(e).splitlines()[0][:160]}; rebuild it "
                            "with `creative-painting wiki index`") from None
        self.index = self.shards[0][0]  # parses queries for every shard: they share one schema
        self.num_docs = sum(searcher.num_docs for _, searcher in self.shards)
        self._pool = ThreadPoolExecutor(usable_cores()) if shards > 1 else None  # shared by search_many's queries
        self.title_boost = title_boost
        self.common: frozenset[str] = frozenset()  # searched as every other word in a small index
        common = self.dir / COMMON_FILE  # (an index built before the file existed has none)
        if self.num_docs > common_above and common.is_file():
            try:
                self.common = frozenset(json.loads(common.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as e:
                raise UserError(f"damaged index at {self.dir}: {common.name}: {e}; rebuild it") from None

    @property
    def tfidf_path(self) -> Path:
        return self.dir / TFIDF_FILE

    def query(self, text: str):
        """The tantivy query `search` runs for `text`, or None for a text of no words; query syntax is never
        interpreted."""
        words = [w for w in _WORD.findall(text.lower()) if w not in ("and", "or", "not")]
        if not words:
            return None
        rare = [w for w in words if w not in self.common]
        # A query of common words alone ("the who", "it") can only name an article: its titles are searched, as
        # every sentence holds such words (the commonest word of 1/10 of the dump: 200-300 ms, 18 M postings)
        fields = ["title", "text"] if rare else ["title"]  # (a small index has no common words: all are rare)
        return self.index.parse_query(" ".join(rare or words), fields, field_boosts={"title": self.title_boost})

    def search(self, text: str, k: int = 20) -> list[Passage]:
        """BM25 over title (boosted) and sentence; any text works, query syntax is never interpreted."""
        query = self.query(text)
        if query is None:
            return []
        try:
            docs = [(score, self.shards[shard][1].doc(address)) for score, shard, address in self._hits(query, k)]
        except ValueError as e:
            raise UserError(f"damaged index at {self.dir}: {str(e).splitlines()[0][:160]}; rebuild it") from None
        passages = [Passage(doc["title"][0], doc["text"][0], float(score)) for score, doc in docs]
        return sorted(passages, key=lambda p: (-p.score, p.title, p.text))[:k]

    def search_many(self, texts: list[str], k: int = 20) -> list[list[Passage]]:
        """`search` for each text, on every core: tantivy searches without Python's lock, and a large index's
        queries each read long posting lists (1/10 of Wikipedia, 2 cores: 8 queries side by side 1.5x one by one)."""
        if len(texts) < 2:
            return [self.search(text, k) for text in texts]
        with ThreadPoolExecutor(min(len(texts), usable_cores())) as pool:
            return list(pool.map(lambda text: self.search(text, k), texts))

    def _hits(self, query, k: int) -> list[tuple[float, int, object]]:
        """(score, shard, address) of the top k and of every hit that ties the k-th, no more (each is a stored
        document to read): tantivy orders equal scores by where the build put them (a resumed build has other
        segments), so `search` orders them by title and text instead. A shard whose last hit still ties the k-th
        may hold more: that shard is searched again, with a limit four times larger."""
        limit = k + TIES
        found = self.first_hits(query, limit)
        while True:
            hits = sorted(((score, shard, address) for shard, part in enumerate(found) for score, address in part),
                          key=lambda hit: -hit[0])
            if not hits:
                return []
            kth = hits[min(k, len(hits)) - 1][0]
            again = [shard for shard, part in enumerate(found) if len(part) == limit and part[-1][0] >= kth]
            if not again:
                return [hit for hit in hits if hit[0] >= kth]
            limit *= 4  # (a shard with fewer hits than the last limit has given all of them)
            for shard, part in zip(again, self.first_hits(query, limit, again), strict=True):
                found[shard] = part

    def first_hits(self, query, limit: int, shards: list[int] | None = None) -> list[list]:
        """The top `limit` (score, address) of each shard (of those numbered in `shards`), the shards side by side
        (tantivy searches without Python's lock)."""
        def one(shard):
            return shard[1].search(query, limit, count=False).hits  # no count: tantivy may skip blocks

        chosen = self.shards if shards is None else [self.shards[i] for i in shards]
        return [one(shard) for shard in chosen] if self._pool is None or len(chosen) == 1 else list(
            self._pool.map(one, chosen))
