"""TF-IDF fitted on caption text, stored as JSON (vocabulary and IDF), never as a pickle.

`TFIDF(v)` in the score is the cosine between the prompt and a candidate in this space: lexical
relevance where words that are everywhere in captions ("painting", "photo") weigh little.

scikit-learn fits it. Scoring only reads the stored vocabulary, IDF and stop words: `StoredTfidf` applies
them as `TfidfVectorizer.transform` does (tested equal), because importing scikit-learn is a second of a
cold `extend`, whose budget is 5 s.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from creative_painting.errors import UserError
from creative_painting.files import atomic_write_text
from creative_painting.textfiles import read_texts

SETTINGS = {"lowercase": True, "stop_words": "english", "sublinear_tf": True, "min_df": 2, "max_features": 200_000}


class StoredTfidf:
    """`TfidfVectorizer.transform` for the settings `fit` uses (word unigrams, l2 norm), from the stored parts."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, stop_words: frozenset[str], *,
                 lowercase: bool, sublinear_tf: bool, token_pattern: str):
        self.vocabulary_, self.idf_, self.stop_words = vocabulary, idf, stop_words
        self.lowercase, self.sublinear_tf, self.token = lowercase, sublinear_tf, re.compile(token_pattern)

    def vector(self, text: str) -> dict[int, float]:
        counts = Counter(w for w in self.token.findall(text.lower() if self.lowercase else text)
                         if w not in self.stop_words and w in self.vocabulary_)
        weights = {self.vocabulary_[w]: (1 + math.log(n) if self.sublinear_tf else n) * self.idf_[self.vocabulary_[w]]
                   for w, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in weights.values()))
        return {i: v / norm for i, v in weights.items()} if norm else {}


class TfidfModel:
    def __init__(self, vectorizer: StoredTfidf):
        self.vectorizer = vectorizer

    @classmethod
    def fit(cls, texts: Iterable[str], **overrides) -> TfidfModel:
        texts = [t for t in texts if t and t.strip()]
        if not texts:
            raise UserError("no text to fit TF-IDF on")
        settings = {**SETTINGS, "min_df": 1 if len(texts) < 1000 else SETTINGS["min_df"], **overrides}
        from sklearn.feature_extraction.text import TfidfVectorizer  # 1 s of imports: not before the checks

        return cls.from_parts(_parts(TfidfVectorizer(**settings).fit(texts)))

    def similarity(self, query: str, texts: list[str]) -> np.ndarray:
        """Cosine of each text with `query` (vectors are l2-normalised, so a dot product)."""
        q = self.vectorizer.vector(query)
        return np.array([sum(v * q.get(i, 0.0) for i, v in self.vectorizer.vector(t).items()) for t in texts])

    def common_words(self, share: float = 0.05) -> list[str]:
        """The stop words, and the words in more than `share` of the fitted texts (smooth IDF below
        1 + ln(1 / share)): they weigh least in BM25 and cost most to search at scale."""
        v = self.vectorizer
        limit = 1.0 + math.log(1.0 / share)
        return sorted(set(v.stop_words) | {w for w, i in v.vocabulary_.items() if v.idf_[i] < limit})

    def save(self, path: str | Path) -> Path:
        v = self.vectorizer
        data = {"params": {"lowercase": v.lowercase, "sublinear_tf": v.sublinear_tf, "token_pattern": v.token.pattern},
                "stop_words": sorted(v.stop_words), "vocabulary": v.vocabulary_, "idf": v.idf_.tolist()}
        atomic_write_text(path, json.dumps(data))
        return Path(path)

    @classmethod
    def from_parts(cls, data: dict) -> TfidfModel:
        params = data["params"]
        stop_words = data.get("stop_words")
        if stop_words is None:  # a file written before the list was stored names scikit-learn's list
            stop_words = _sklearn_stop_words(params.get("stop_words"))
        return cls(StoredTfidf({str(t): int(i) for t, i in data["vocabulary"].items()},
                               np.asarray(data["idf"], dtype=np.float64), frozenset(stop_words),
                               lowercase=bool(params.get("lowercase", True)),
                               sublinear_tf=bool(params.get("sublinear_tf", False)),
                               token_pattern=params.get("token_pattern") or _TOKEN_PATTERN))

    @classmethod
    def load(cls, path: str | Path) -> TfidfModel:
        try:
            return cls.from_parts(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise UserError(f"TF-IDF model not found: {path}") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError, re.error) as e:
            raise UserError(f"not a TF-IDF model file (JSON from `extend fit-tfidf`): {path}: {e}") from e


_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default


def _sklearn_stop_words(name: str | None) -> list[str]:
    if name is None:
        return []
    if name != "english":
        raise ValueError(f"unknown stop-word list {name!r}")
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return list(ENGLISH_STOP_WORDS)


def _parts(v) -> dict:
    """What scoring needs of a fitted `TfidfVectorizer`; only word unigrams with l2 rows are supported."""
    if v.analyzer != "word" or v.ngram_range != (1, 1) or v.norm != "l2" or v.strip_accents or v.preprocessor \
            or v.tokenizer or not v.use_idf:
        raise ValueError("TF-IDF settings beyond word unigrams with IDF and l2 rows are not supported")
    return {"params": {"lowercase": v.lowercase, "sublinear_tf": v.sublinear_tf, "token_pattern": v.token_pattern},
            "stop_words": sorted(v.get_stop_words() or ()), "vocabulary": {t: int(i) for t, i in v.vocabulary_.items()},
            "idf": v.idf_.tolist()}


def iter_caption_texts(path: str | Path, column: str = "TEXT") -> Iterator[str]:
    """Caption text from LAION parquet/CSV (`TEXT` column), a WikiArt source (its captions) or plain text lines."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"caption file not found: {path}")
    if path.suffix == ".parquet" and column in _parquet_columns(path):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(columns=[column], batch_size=8192):
            yield from (t for t in batch.column(0).to_pylist() if t)
    elif path.suffix in (".csv", ".tsv") and not _is_wikiart_list(path):
        yield from read_texts(path, column)
    elif path.is_dir() or path.suffix in (".parquet", ".csv") or path.name.endswith((".tar", ".tar.gz", ".tgz")):
        from creative_painting.wikiart import iter_source, make_caption

        yield from (make_caption(a) for a in iter_source(path))
    else:
        yield from read_texts(path, column)  # plain text: one caption a line


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).schema_arrow.names


def _is_wikiart_list(path: Path) -> bool:
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", "replace")
    return "/" in first.split(",", 1)[0] and first.rstrip().rsplit(",", 1)[-1].isdigit()
