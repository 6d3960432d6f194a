"""Load transformers models lazily from a hub id or a local path; a missing model is a clear UserError."""

from __future__ import annotations

from pathlib import Path

from creative_painting.errors import UserError


def _missing(source: str, what: str, error: Exception) -> UserError:
    where = "local path" if Path(source).exists() else "hub id (offline or not found)"
    return UserError(f"cannot load {what} from {where} {source!r}: {str(error).splitlines()[0][:200]}")


def quiet_transformers() -> None:
    """No "Loading weights" bar on the terminal for each small model an extension loads."""
    import transformers

    transformers.utils.logging.disable_progress_bar()


def load_seq2seq(source: str):
    quiet_transformers()
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source), AutoModelForSeq2SeqLM.from_pretrained(source).eval()
    except (OSError, ValueError, KeyError) as e:
        raise _missing(source, "seq2seq model", e) from e


def load_causal(source: str):
    """Tokenizer and model in fp32: generation runs on the CPU, where bf16 is slow and lossy."""
    import torch

    quiet_transformers()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source), AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).eval()
    except (OSError, ValueError, KeyError) as e:
        raise _missing(source, "causal language model", e) from e


def load_hf_pipeline(task: str, source: str, **kwargs):
    quiet_transformers()
    from transformers import pipeline

    try:
        return pipeline(task, model=source, **kwargs)
    except (OSError, ValueError, KeyError) as e:
        raise _missing(source, f"{task} model", e) from e
