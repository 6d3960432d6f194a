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
