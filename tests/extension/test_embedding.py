"""The embedders give sentence-transformers' vectors, without importing it on the default path."""

import subprocess
import sys

import numpy as np
import pytest

from creative_painting.extension.bert import BertEncoder
from creative_painting.extension.embedding import MeanPoolEmbedder, bundled_minilm, load_embedder

TEXTS = ["A remote control is an electronic device.", "x", "Ünïcödé café in Zürich, 北京",
         "Many employees now work from home, using laptops and video calls instead of commuting. " * 30]


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_minilm()), device="cpu")


def test_bundled_minilm_equals_sentence_transformers(reference):
    """Padding, truncation at 256 tokens (the last text is longer), pooling and normalisation all count."""
    embedder = load_embedder()
    assert isinstance(embedder, MeanPoolEmbedder) and isinstance(embedder.hidden, BertEncoder)
    np.testing.assert_allclose(embedder.encode(TEXTS), reference.encode(TEXTS, normalize_embeddings=True), atol=2e-6)
    one_at_a_time = np.stack([load_embedder().encode([t])[0] for t in TEXTS])  # padding does not leak in
    np.testing.assert_allclose(one_at_a_time, reference.encode(TEXTS, normalize_embeddings=True), atol=2e-6)
    many = [f"{'a very ' * (i * 7 % 11)}long line number {i}" for i in range(40)]  # batches sorted by length
    np.testing.assert_allclose(load_embedder().encode(many), reference.encode(many, normalize_embeddings=True), atol=2e-6)


def test_a_non_bert_folder_goes_through_transformers_with_the_same_vectors(reference, tmp_path):
    """The same folder without tokenizer.json is not read by bert.py: transformers runs it, to the same vectors."""
    import shutil

    folder = tmp_path / "minilm"
    shutil.copytree(bundled_minilm(), folder)
    (folder / "tokenizer.json").unlink()
    embedder = load_embedder(str(folder))
    assert not isinstance(embedder.hidden, BertEncoder)
    np.testing.assert_allclose(embedder.encode(TEXTS), reference.encode(TEXTS, normalize_embeddings=True), atol=2e-6)


def test_the_default_embedder_imports_neither_sentence_transformers_nor_transformers():
    code = ("import sys; from creative_painting.extension.embedding import load_embedder; load_embedder().encode(['a']);"
            "print(sorted(m for m in ('sentence_transformers', 'transformers', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
