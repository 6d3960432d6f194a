"""TF-IDF fitted on caption text, stored as JSON (vocabulary and IDF), never as a pickle.

`TFIDF(v)` in the score is the cosine between the prompt and a candidate in this space: lexical
relevance where words that are everywhere in captions ("painting", "photo") weigh little.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from creative_painting.errors import UserError
from creative_painting.files import atomic_write_text
from creative_painting.textfiles import read_texts

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

SETTINGS = {"lowercase": True, "stop_words": "english", "sublinear_tf": True, "min_df": 2, "max_features": 200_000}


class TfidfModel:
    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer

    @classmethod
    def fit(cls, texts: Iterable[str], **overrides) -> TfidfModel:
        texts = [t for t in texts if t and t.strip()]
        if not texts:
            raise UserError("no text to fit TF-IDF on")
        settings = {**SETTINGS, "min_df": 1 if len(texts) < 1000 else SETTINGS["min_df"], **overrides}
        from sklearn.feature_extraction.text import TfidfVectorizer  # 1 s of imports: not before the checks

        return cls(TfidfVectorizer(**settings).fit(texts))

    def similarity(self, query: str, texts: list[str]) -> np.ndarray:
        """Cosine of each text with `query` (rows are l2-normalised, so a dot product)."""
        if not texts:
            return np.zeros(0)
        q = self.vectorizer.transform([query])
        return np.asarray((self.vectorizer.transform(texts) @ q.T).todense()).ravel()

    def save(self, path: str | Path) -> Path:
        v = self.vectorizer
        params = {k: v.get_params()[k] for k in SETTINGS}
        data = {"params": params, "vocabulary": {t: int(i) for t, i in v.vocabulary_.items()}, "idf": v.idf_.tolist()}
        atomic_write_text(path, json.dumps(data))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> TfidfModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            from sklearn.feature_extraction.text import TfidfVectorizer

            v = TfidfVectorizer(**data["params"])
            v.vocabulary_ = data["vocabulary"]
            v.idf_ = np.asarray(data["idf"], dtype=np.float64)
        except FileNotFoundError:
            raise UserError(f"TF-IDF model not found: {path}") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise UserError(f"not a TF-IDF model file (JSON from `extend fit-tfidf`): {path}: {e}") from e
        return cls(v)


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
