"""Candidate generators through transformers: T5 span continuation, DialoGPT responses, causal and
instruction LMs that continue the prompt, and an instruction LM that rewrites sentences into scenes.

Each model is loaded on first use from a hub id or a local path (see `selection` for which ones run).
"""

from __future__ import annotations

import re

from creative_painting.extension.candidate import Candidate
from creative_painting.seeds import derive_seed, seeded_init


def _clean(text: str) -> str:
    text = re.sub(r"<[^<>]{1,40}>", " ", text)  # markup and special tokens a tokenizer does not skip
    text = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()
    end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[: end + 1] if end > 20 else text  # cut a trailing half sentence


class Generator:
    """Writes candidates for a prompt; `num` sampled texts of at most `max_new_tokens` each."""

    kind = "generator"

    def __init__(self, source: str, num: int = 4, max_new_tokens: int = 40, seed: int = 0):
        self.source, self.num, self.max_new_tokens, self.seed = source, num, max_new_tokens, seed
        self._loaded = None

    def _load(self):
        """(tokenizer, model); called once, on first use."""
        raise NotImplementedError

    @property
    def tokenizer(self):
        self._loaded = self._loaded or self._load()
        return self._loaded[0]

    def _run(self, inputs, sample: bool = True, **kwargs):
        import torch

        tokenizer, model = self._loaded
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        options = {"do_sample": True, "top_p": 0.92, "num_return_sequences": self.num} if sample else {"do_sample": False}
        # generate() samples from torch's global RNG: seed it for this call only, then put it back.
        with torch.no_grad(), seeded_init(derive_seed(self.seed, self.kind)):
            return model.generate(**inputs, max_new_tokens=self.max_new_tokens, pad_token_id=pad, **options, **kwargs)

    def generate(self, prompt: str) -> list[Candidate]:
        texts = [t for t in (_clean(t) for t in self._generate(prompt)) if len(t.split()) >= 3]
        return [Candidate(t, self.kind) for t in dict.fromkeys(texts)]

    def _generate(self, prompt: str) -> list[str]:
        raise NotImplementedError


class T5Continuation(Generator):
    """T5's span corruption objective: "<prompt> <extra_id_0>" asks for the text that follows."""

    kind = "t5"

    def _load(self):
        from creative_painting.extension.loading import load_seq2seq

        return load_seq2seq(self.source)

    def _generate(self, prompt: str) -> list[str]:
        tokenizer = self.tokenizer
        outputs = self._run(tokenizer(f"{prompt} <extra_id_0>", return_tensors="pt"))
        spans = []
        for ids in outputs:
            text = tokenizer.decode(ids, skip_special_tokens=False)
            text = text.replace(tokenizer.pad_token or "<pad>", "").replace(tokenizer.eos_token or "</s>", "")
            span = text.split("<extra_id_0>", 1)[-1].split("<extra_id_1>", 1)[0].strip()
            if span:
                spans.append(f"{prompt} {span}")
        return spans


class _CausalReply(Generator):
    """A causal LM: the candidate is what it writes after the input this class builds from the prompt."""

    def _load(self):
        from creative_painting.extension.loading import load_causal

        return load_causal(self.source)

    def _inputs(self, tokenizer, prompt: str):
        raise NotImplementedError

    def _candidate(self, prompt: str, reply: str) -> str:
        return reply

    def _generate(self, prompt: str) -> list[str]:
        tokenizer = self.tokenizer
        inputs = self._inputs(tokenizer, prompt)
        start = inputs["input_ids"].shape[1]
        return [self._candidate(prompt, tokenizer.decode(ids[start:], skip_special_tokens=True))
                for ids in self._run(inputs)]


class DialogResponder(_CausalReply):
    """DialoGPT: the prompt is the user's turn, ended by EOS; the reply is the candidate."""

    kind = "dialogpt"

    def _inputs(self, tokenizer, prompt: str):
        return tokenizer(prompt + tokenizer.eos_token, return_tensors="pt")


class CausalContinuation(_CausalReply):
    """A base language model continues the prompt (the bundled Gemma-270M, or any causal LM)."""

    kind = "causal"

    def _inputs(self, tokenizer, prompt: str):
        return tokenizer(f"{prompt[:1].upper()}{prompt[1:]}:", return_tensors="pt")

    def _candidate(self, prompt: str, reply: str) -> str:
        return f"{prompt}: {reply}"


class ChatGenerator(_CausalReply):
    """An instruction model asked, through its chat template, for one concrete scene (the paper's use of
    T5 and DialoGPT, with a model that follows instructions)."""

    kind = "chat"
    INSTRUCTION = "Describe in one sentence a concrete scene, with a place and a time, that shows: {prompt}"

    def _inputs(self, tokenizer, prompt: str):
        messages = [{"role": "user", "content": self.INSTRUCTION.format(prompt=prompt)}]
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                             return_dict=True)


class SceneRewriter(_CausalReply):
    """Beyond the paper: an instruction model rewrites retrieved sentences into short scenes that keep their
    places and times. Greedy, all sentences in one batch, at most 60 new tokens each."""

    kind = "rewrite"
    SYSTEM = ("You turn sentences into short descriptions of a picture: what one sees, where and when. "
              "Keep every place name and date.")
    EXAMPLE = ("Paris hosted the 1889 World's Fair, for which the Eiffel Tower was built as its entrance arch.",
               "Crowds walk under the new iron Eiffel Tower at the Paris World's Fair, summer 1889.")

    def __init__(self, source: str, max_new_tokens: int = 60, seed: int = 0):
        super().__init__(source, num=1, max_new_tokens=max_new_tokens, seed=seed)

    def _messages(self, sentence: str) -> list[dict]:
        question, answer = self.EXAMPLE
        return [{"role": "system", "content": self.SYSTEM}, {"role": "user", "content": question},
                {"role": "assistant", "content": answer}, {"role": "user", "content": sentence}]

    def rewrite(self, candidates: list[Candidate]) -> list[Candidate]:
        """One scene per candidate (fewer when a reply is empty); each carries the sentence it came from."""
        if not candidates:
            return []
        tokenizer = self.tokenizer
        tokenizer.padding_side = "left"  # a batch of prompts must end where generation starts
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        inputs = tokenizer.apply_chat_template([self._messages(c.text) for c in candidates], padding=True,
                                               add_generation_prompt=True, return_tensors="pt", return_dict=True)
        start = inputs["input_ids"].shape[1]
        replies = [_clean(tokenizer.decode(ids[start:], skip_special_tokens=True)) for ids in self._run(inputs, sample=False)]
        return [Candidate(reply, self.kind, c.title, c.text, c.sources) for c, reply in zip(candidates, replies, strict=True)
                if len(reply.split()) >= 3 and reply.lower() != c.text.lower()]
