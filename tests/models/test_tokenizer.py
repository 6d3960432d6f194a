import pytest

from creative_painting.errors import UserError
from creative_painting.models.tokenizer import VOCAB_ENV, load_clip_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_clip_tokenizer()


def test_vocabulary_size_matches_openai(tokenizer):
    assert len(tokenizer) == 49408


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("a photo of a cat", [49406, 320, 1125, 539, 320, 2368, 49407]),
        # Lower-casing and whitespace folding happen as in OpenAI's simple_tokenizer.
        ("A  PHOTO of a Cat", [49406, 320, 1125, 539, 320, 2368, 49407]),
        ("a painting of urbanization of china by vincent van gogh",
         [49406, 320, 3086, 539, 7931, 10847, 539, 2817, 638, 10357, 2451, 19697, 49407]),
    ],
)
def test_tokenizes_as_clip(tokenizer, text, ids):
    assert tokenizer(text).input_ids == ids


def test_pads_to_77_with_end_token_and_truncates(tokenizer):
    padded = tokenizer("a photo of a cat", padding="max_length", max_length=77).input_ids
    assert len(padded) == 77 and padded[7:] == [49407] * 70
    long = tokenizer("cat " * 200, padding="max_length", max_length=77, truncation=True).input_ids
    assert len(long) == 77 and long[0] == 49406 and long[-1] == 49407


def test_missing_vocab_file_is_a_user_error(monkeypatch, tmp_path):
    monkeypatch.setenv(VOCAB_ENV, str(tmp_path / "nope.txt.gz"))
    with pytest.raises(UserError, match=VOCAB_ENV):
        load_clip_tokenizer()


def test_the_cached_token_counter_is_the_same_tokenizer(tokenizer, monkeypatch, tmp_path):
    """What `extend` counts against CLIP's 77 tokens, without transformers: the same ids, also after a reload."""
    from creative_painting.models.tokenizer import clip_token_counter

    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path))
    texts = ["A robot barista pours coffee in Zürich, 北京 café 🤖!!", "  Multiple   SPACES\tand\nnewlines ",
             "it's DON'T <|endoftext|> fine ligature ½ " * 10, "a painting of urbanization of china by vincent van gogh"]
    for counter in (clip_token_counter(), clip_token_counter()):  # built, then read from the cache
        for text in texts:
            assert counter.encode(text).ids == tokenizer(text).input_ids
    assert len(list((tmp_path / "clip-tokenizer").glob("*.json"))) == 1


def test_counting_tokens_in_a_new_process_does_not_import_transformers(tmp_path):
    """The first process builds the cached tokenizer through transformers; the next ones only read it."""
    import os
    import subprocess
    import sys

    code = ("import sys; from creative_painting.extension.shorten import clip_length; "
            "assert clip_length('a photo of a cat') == 7; print('transformers' in sys.modules)")
    env = {**os.environ, "CREATIVE_PAINTING_CACHE": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout.strip()
            for _ in range(2)]
    assert runs == ["True", "False"]
