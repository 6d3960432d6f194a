"""`--long-prompt chunk`: captions over 77 tokens read whole, A1111's way; nothing changes up to 75 tokens."""


import numpy as np
import pytest
import torch

from creative_painting.cli.main import main
from creative_painting.errors import UserError
from creative_painting.painting import Cell, paint, read_png_metadata
from creative_painting.painting.folder import read_folder
from creative_painting.painting.painter import encode_chunks, encode_text, pad_chunks
from creative_painting.painting.spec import PaintSpec
from creative_painting.sampling import SamplingSettings

SETTINGS = SamplingSettings("ddim", 2, 5.0, 0.0, 64, 64)
LONG = " ".join(["a quiet harbour with boats"] * 25)  # 125 words, 125 tokens


def tokens(model, text):
    return len(model.tokenizer(text, add_special_tokens=False).input_ids)


@pytest.mark.parametrize("caption", ["", "a painting of a harbour by Claude Monet", " ".join(["boat"] * 75)])
def test_up_to_75_tokens_chunking_gives_exactly_the_usual_embeddings(tiny_model, caption):
    assert tokens(tiny_model, caption) <= 75
    assert torch.equal(encode_chunks(tiny_model, caption), encode_text(tiny_model, [caption])[0])


def test_a_150_token_caption_is_read_to_its_end(tiny_model):
    caption = " ".join(["boat"] * 149) + " zebra"
    other = " ".join(["boat"] * 149) + " lighthouse"
    assert tokens(tiny_model, caption) == 150
    chunked = encode_chunks(tiny_model, caption)
    assert chunked.shape[0] == 2 * 77  # two chunks of 75, each with its start and end tokens
    assert not torch.equal(chunked, encode_chunks(tiny_model, other))  # the last word counts
    assert torch.equal(encode_text(tiny_model, [caption]), encode_text(tiny_model, [other]))  # truncation: cut

    images = {mode: [paint(tiny_model, [Cell.single(c, seed=0)], SETTINGS, long_prompt=mode)[0] for c in (caption, other)]
              for mode in ("truncate", "chunk")}
    assert np.array_equal(np.asarray(images["truncate"][0]), np.asarray(images["truncate"][1]))
    assert not np.array_equal(np.asarray(images["chunk"][0]), np.asarray(images["chunk"][1]))


def test_the_negative_and_shorter_captions_are_padded_with_empty_chunks(tiny_model, monkeypatch):
    empty = encode_text(tiny_model, [""])[0]
    padded = pad_chunks([encode_chunks(tiny_model, LONG), empty], empty)
    assert padded.shape == (2, 2 * 77, empty.shape[-1])
    assert torch.equal(padded[1, 77:], empty)
    seen = []
    original = tiny_model.unet.forward
    monkeypatch.setattr(tiny_model.unet, "forward",
                        lambda x, t, encoder_hidden_states, **k: seen.append(encoder_hidden_states.shape)
                        or original(x, t, encoder_hidden_states, **k))
    paint(tiny_model, [Cell.single(LONG, seed=0, negative="blurry"), Cell.single("a cat", seed=1)], SETTINGS,
          long_prompt="chunk", batch_size=2)
    assert seen and all(s[:2] == (4, 154) for s in seen)  # 2 captions + 2 negatives, 2 chunks each


def test_the_mode_is_recorded_in_the_png_and_the_manifest(tiny_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["paint", LONG, "--long-prompt", "chunk", "--model", str(tiny_dir / "tiny.safetensors"),
                 "--steps", "2", "--width", "64", "--height", "64", "--out", str(out), "--no-progress"]) == 0
    record = read_folder(out).records[0]
    assert record["long_prompt"] == "chunk" and read_png_metadata(out / record["file"])["long_prompt"] == "chunk"


def test_an_unknown_mode_is_a_one_line_error(capsys):
    with pytest.raises(UserError, match="long_prompt must be one of truncate, chunk"):
        PaintSpec.check({"prompts": ["x"], "long_prompt": "zip"})
    assert main(["paint", "x", "--long-prompt", "zip"]) == 2  # the same check, the same words
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "long_prompt must be one of truncate, chunk, got 'zip'" in err
