import json

import pytest

from creative_painting.cli.main import main
from creative_painting.errors import UserError
from creative_painting.extension import WikiIndex, build_index, iter_articles
from creative_painting.extension.markup import split_sentences, wikitext_to_text

from .conftest import ARTICLES, write_dump


def test_dump_ingestion_drops_markup_redirects_and_other_namespaces(dump):
    articles = {a.title: a.text for a in iter_articles(dump)}
    assert set(articles) == set(ARTICLES)  # no "Shenzen" redirect, no "Talk:" page
    text = articles["Shenzhen"]
    for markup in ("{{", "}}", "[[", "<ref", "cite web", "wikitable", "17 million", "File:", "Category:", "==", "'''",
                   "skyline"):
        assert markup not in text
    assert text.startswith("Shenzhen is a major city in Guangdong, China.")
    assert "It has a large economy" in text  # the section body stays, its heading goes


def test_sentences_respect_abbreviations():
    text = wikitext_to_text("St. Mary's church was built c. 1500 in the town. It burned in 1666. Ok.")
    assert split_sentences(text) == ["St. Mary's church was built c. 1500 in the town.", "It burned in 1666."]


def test_jsonl_and_parquet_sources(jsonl, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert [a.title for a in iter_articles(jsonl)] == ["Alpha", "Beta"]
    pq.write_table(pa.table({"id": ["1"], "title": ["Gamma"], "text": ["Gamma is a letter used in Greece."]}),
                   tmp_path / "wiki.parquet")
    assert [a.text for a in iter_articles(tmp_path / "wiki.parquet")] == ["Gamma is a letter used in Greece."]
    (tmp_path / "bad.jsonl").write_text('{"title": "x"}\n')
    with pytest.raises(UserError, match="bad.jsonl:1"):
        list(iter_articles(tmp_path / "bad.jsonl"))


def test_search_prefers_title_matches(small_index):
    index = WikiIndex(small_index)
    hits = index.search("shenzhen economy", 5)
    assert hits[0].title == "Shenzhen"
    assert all(h.score > 0 for h in hits) and hits == sorted(hits, key=lambda h: -h.score)
    assert index.search("AND OR NOT (", 5) == []  # query syntax is never interpreted
    assert index.tfidf_path.is_file()


def test_index_resumes_after_an_interruption(tmp_path, dump):
    def interrupted():
        for i, article in enumerate(iter_articles(dump)):
            if i == 2:
                raise KeyboardInterrupt
            yield article

    with pytest.raises(KeyboardInterrupt):
        build_index(interrupted(), tmp_path, source="d", commit_every=1, progress=False)
    assert json.loads((tmp_path / "progress.json").read_text())["articles"] == 2
    state = build_index(iter_articles(dump), tmp_path, source="d", commit_every=1, progress=False)
    assert state["articles"] == 3 and state["done"]
    titles = [h.title for h in WikiIndex(tmp_path).search("shenzhen urbanization painting city", 50)]
    assert titles.count("Shenzhen") == len(set(p for p in split_sentences(next(iter_articles(dump)).text)))


def test_wiki_index_cli_errors(tmp_path, capsys):
    corrupt = tmp_path / "broken-pages-articles.xml"
    write_dump(corrupt)
    corrupt.write_text(corrupt.read_text()[:-40])  # cut off mid-page
    assert main(["wiki", "index", str(corrupt), str(tmp_path / "ix"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "corrupt Wikipedia dump" in err and err.count("\n") == 1
    assert main(["wiki", "index", str(tmp_path / "missing.xml"), str(tmp_path / "ix2")]) == 2
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "ix2").exists()
    with pytest.raises(UserError, match="no finished index"):
        WikiIndex(tmp_path / "ix")
