"""Corpora, a dump and tiny language models that the tests build themselves (nothing downloaded)."""

import bz2
import json

import pytest

ARTICLES = {
    "Shenzhen": "'''Shenzhen''' is a major [[city]] in [[Guangdong]], [[China]].<ref>{{cite web|url=x}}</ref> "
                "{{Infobox settlement|name=Shenzhen}}\n"
                "Originally a collection of fishing villages, Shenzhen rapidly grew to be one of the largest cities "
                "in China after 1979.\n"
                "The city is known as a centre of technology and urban growth.\n"
                "== Economy ==\nIt has a large economy that keeps growing quickly every year.\n"
                "{| class=\"wikitable\"\n|-\n| Population || 17 million\n|}\n"
                "[[File:Shenzhen skyline.jpg|thumb|The skyline]]\n[[Category:Cities in China]]",
    "Urbanization": "'''Urbanization''' is the population shift from rural to urban areas.\n"
                    "Rapid urbanization changed many villages into large modern cities.",
    "Painting": "'''Painting''' is the practice of applying paint to a surface.\n"
                "Vincent van Gogh painted the wheat fields around Arles in the summer of 1888.",
}


def write_dump(path, articles=ARTICLES, extra_pages=""):
    pages = "".join(
        f"<page><title>{t}</title><ns>0</ns><id>{i}</id><revision><text xml:space=\"preserve\">"
        f"{_escape(body)}</text></revision></page>\n" for i, (t, body) in enumerate(articles.items(), 1))
    redirect = ("<page><title>Shenzen</title><ns>0</ns><id>90</id><redirect title=\"Shenzhen\" />"
                "<revision><text>#REDIRECT [[Shenzhen]]</text></revision></page>\n"
                "<page><title>Talk:Shenzhen</title><ns>1</ns><id>91</id><revision><text>Talk about the city of "
                "Shenzhen in 1999 here.</text></revision></page>\n")
    xml = ("<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\"><siteinfo><sitename>W</sitename></siteinfo>\n"
           + pages + redirect + extra_pages + "</mediawiki>\n")
    opener = bz2.open if str(path).endswith(".bz2") else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(xml)
    return path


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.fixture(scope="session")
def dump(tmp_path_factory):
    return write_dump(tmp_path_factory.mktemp("wiki") / "enwiki-test-pages-articles.xml.bz2")


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, dump):
    from creative_painting.extension import build_index, iter_articles

    out = tmp_path_factory.mktemp("index")
    build_index(iter_articles(dump), out, source=str(dump), progress=False)
    return out


def _train_tokenizer(special: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [" ".join(ARTICLES.values()), "the city grew in the summer of 1979 near the river",
              "hello how are you today", "a painting of a harbour at night"] * 5
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=["<unk>", *special]))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>")


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory):
    """A 1-layer T5 with a word-level tokenizer trained here, saved in transformers format."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tok = _train_tokenizer(["<pad>", "</s>", "<extra_id_0>", "<extra_id_1>"])
    tok.pad_token, tok.eos_token = "<pad>", "</s>"
    tok.add_special_tokens({"additional_special_tokens": ["<extra_id_0>", "<extra_id_1>"]})
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(tok), d_model=32, d_ff=64, d_kv=16, num_layers=1, num_heads=2,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      decoder_start_token_id=tok.pad_token_id)
    out = tmp_path_factory.mktemp("t5")
    T5ForConditionalGeneration(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    """DialoGPT's architecture (GPT-2) at 1 layer, EOS `<|endoftext|>`, saved in transformers format."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = _train_tokenizer(["<|endoftext|>"])
    tok.eos_token = tok.pad_token = "<|endoftext|>"
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tok), n_layer=1, n_embd=32, n_head=2, n_positions=128,
                        eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id)
    out = tmp_path_factory.mktemp("gpt2")
    GPT2LMHeadModel(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def jsonl(tmp_path_factory):
    path = tmp_path_factory.mktemp("jsonl") / "wiki.jsonl"
    path.write_text("\n".join(json.dumps({"title": t, "text": "Plain text about " + t + " in Paris in 1900."})
                              for t in ("Alpha", "Beta")) + "\n")
    return path
