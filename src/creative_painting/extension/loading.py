"""Load transformers models lazily from a hub id or a local path; a missing model is a clear UserError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from creative_painting.errors import UserError


def load_quietly(source: str, what: str, load: Callable):
    """`load()` without a "Loading weights" bar on the terminal for each small model an extension loads; a model
    that cannot be had is a UserError naming its source and the error's first line."""
    import transformers

    transformers.utils.logging.disable_progress_bar()
    try:
        return load()
    except (OSError, ValueError, KeyError) as e:
        where = "local path" if Path(source).exists() else "hub id (offline or not found)"
        raise UserError(f"cannot load {what} from {where} {source!r}: {str(e).splitlines()[0][:200]}") from e


def load_seq2seq(source: str):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    return load_quietly(source, "seq2seq model", lambda: (
        AutoTokenizer.from_pretrained(source), AutoModelForSeq2SeqLM.from_pretrained(source).eval()))


def load_causal(source: str):
    """Tokenizer and model in fp32: generation runs on the CPU, where bf16 is slow and lossy."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return load_quietly(source, "causal language model", lambda: (
        AutoTokenizer.from_pretrained(source),
        AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).eval()))


def load_hf_pipeline(task: str, source: str, **kwargs):
    from transformers import pipeline

    return load_quietly(source, f"{task} model", lambda: pipeline(task, model=source, **kwargs))
