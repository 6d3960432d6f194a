"""Load transformers models lazily from a hub id or a local path; a missing model is a clear UserError."""

from __future__ import annotations

from pathlib import Path

from creative_painting.errors import UserError


def _missing(spec: str, what: str, error: Exception) -> UserError:
    where = "local path" if Path(spec).exists() else "hub id (offline or not found)"
    return UserError(f"cannot load {what} from {where} {spec!r}: {str(error).splitlines()[0][:200]}")


def load_seq2seq(spec: str):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(spec), AutoModelForSeq2SeqLM.from_pretrained(spec).eval()
    except (OSError, ValueError, KeyError) as e:
        raise _missing(spec, "seq2seq model", e) from e


def load_causal(spec: str, gguf_file: str | None = None):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        return (AutoTokenizer.from_pretrained(spec, **kwargs),
                AutoModelForCausalLM.from_pretrained(spec, **kwargs).eval())
    except (OSError, ValueError, KeyError) as e:
        raise _missing(spec, "causal language model", e) from e


def load_hf_pipeline(task: str, spec: str, **kwargs):
    from transformers import pipeline

    try:
        return pipeline(task, model=spec, **kwargs)
    except (OSError, ValueError, KeyError) as e:
        raise _missing(spec, f"{task} model", e) from e
