"""Which generators run: the flags, the paper's defaults, and whether each model can be had right now.

A model that is neither local, cached nor reachable is skipped with a one-line note, never a crash, and the
hub is probed for 2 s rather than waiting out a 50 s connection timeout.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.extension.generators import (
    CausalContinuation,
    ChatGenerator,
    DialogResponder,
    Generator,
    SceneRewriter,
    T5Continuation,
)

logger = logging.getLogger(__name__)

DEFAULT_T5 = "t5-base"
DEFAULT_DIALOG = "microsoft/DialoGPT-medium"
BUNDLED_CHAT = ("smollm2", "gemma")


def _hub_reachable(timeout: float = 2.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def available(source: str) -> bool:
    """Local folder, already in the Hugging Face cache, or the hub answers now."""
    if Path(source).exists():
        return True
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(source, "config.json"), str) or _hub_reachable()


def skip_note(kind: str, reason: str) -> None:
    logger.warning("%s generator skipped: %s", kind, reason)


def chat_model(source: str) -> str:
    """The folder or id of an instruction model: 'smollm2' and 'gemma' are the bundled ones."""
    from creative_painting.extension.bundled_lms import bundled_gemma, bundled_smollm2

    return str({"smollm2": bundled_smollm2, "gemma": bundled_gemma}[source]()) if source in BUNDLED_CHAT else source


def resolve_generators(t5: str | None, dialog: str | None, chat: str | None, *, rewrite: int = 0,
                       seed: int = 0) -> tuple[list[Generator], SceneRewriter | None]:
    """Generators for the flags, and the rewriter of retrieved sentences when `rewrite` > 0.

    The paper's t5-base and DialoGPT-medium are tried by default; "none" turns one off. `chat` names the
    instruction model of both `--chat` (continuations) and `--rewrite` (SmolLM2, bundled, by default)."""
    chosen = []
    for source, default, cls in ((t5, DEFAULT_T5, T5Continuation), (dialog, DEFAULT_DIALOG, DialogResponder)):
        if source == "none":
            continue
        generator = cls(source or default, seed=seed)
        if available(generator.source):
            chosen.append(generator)
        elif source is not None:  # a default that cannot be had is no news: tried again, quietly, every run
            skip_note(generator.kind, f"{generator.source} is not local, not cached, and the hub cannot be reached")
        else:
            logger.debug("default %s generator %s is not available", generator.kind, generator.source)
    asked = chat if chat not in (None, "none") else None
    if not (asked or rewrite):
        return chosen, None
    name = asked or "smollm2"
    if rewrite and name == "gemma":
        raise UserError("--rewrite needs an instruction model; gemma is a base model (try --chat smollm2)")
    try:
        folder = chat_model(name)
    except UserError as e:
        skip_note(name, str(e))
        return chosen, None
    if not (name in BUNDLED_CHAT or available(folder)):
        skip_note(name, f"{folder} is not local, not cached, and the hub cannot be reached")
        return chosen, None
    if asked:  # Gemma is a base model: it continues the prompt; an instruction model is asked for a scene
        cls = CausalContinuation if name == "gemma" else ChatGenerator
        chosen.append(cls(folder, seed=seed))
    return chosen, SceneRewriter(folder, seed=seed) if rewrite else None
