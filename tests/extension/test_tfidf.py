"""Scoring's TF-IDF reads only the stored parts, and gives what scikit-learn's own transform gives."""

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from creative_painting.errors import UserError
from creative_painting.extension.tfidf import SETTINGS, TfidfModel

CAPTIONS = ["A harbour at dawn, painting by Claude Monet", "Fishing boats in the harbour of Le Havre, 1873",
            "A photo of a busy street in Shanghai at night", "Rain over the rice fields, a painting",
            "The the THE and of: a photo!", "Boats, boats and more boats in a harbour", "Trains crossing a bridge"]
QUERIES = ["boats in a harbour", "a photo of Shanghai's streets, at night", "the and of", "Zebra", ""]


def sklearn_cosines(query: str, texts: list[str]) -> np.ndarray:
    """The reference: scikit-learn's fitted vectorizer and its own transform."""
    v = TfidfVectorizer(**{**SETTINGS, "min_df": 1}).fit(CAPTIONS)
    return (v.transform(texts) @ v.transform([query]).T).toarray().ravel()


@pytest.mark.parametrize("query", QUERIES)
def test_similarity_equals_sklearns_transform_after_a_save_and_load(query, tmp_path):
    model = TfidfModel.load(TfidfModel.fit(CAPTIONS).save(tmp_path / "tfidf.json"))
    texts = [*CAPTIONS, "harbour harbour harbour boats", "nothing known here"]
    np.testing.assert_allclose(model.similarity(query, texts), sklearn_cosines(query, texts), atol=1e-12)


def test_a_file_written_before_stop_words_were_stored_still_scores_the_same(tmp_path):
    v = TfidfVectorizer(**{**SETTINGS, "min_df": 1}).fit(CAPTIONS)
    legacy = {"params": {k: v.get_params()[k] for k in SETTINGS}, "idf": v.idf_.tolist(),
              "vocabulary": {t: int(i) for t, i in v.vocabulary_.items()}}
    (tmp_path / "old.json").write_text(json.dumps(legacy))
    model = TfidfModel.load(tmp_path / "old.json")
    assert "the" in model.vectorizer.stop_words
    np.testing.assert_allclose(model.similarity("the boats of the harbour", CAPTIONS),
                               sklearn_cosines("the boats of the harbour", CAPTIONS), atol=1e-12)


def test_a_damaged_file_is_a_one_line_error(tmp_path):
    (tmp_path / "bad.json").write_text('{"params": {"token_pattern": "("}, "vocabulary": {}, "idf": []}')
    with pytest.raises(UserError, match="not a TF-IDF model file"):
        TfidfModel.load(tmp_path / "bad.json")
