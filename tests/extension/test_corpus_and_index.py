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
    queries = ["shenzhen economy", "AND", "china", "port", "shenzhen"]  # searched side by side, returned in order
    assert index.search_many(queries, 3) == [index.search(q, 3) for q in queries] != [[]] * 5


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
    assert not (tmp_path / "ix2").exists() and not (tmp_path / "ix").exists()
    with pytest.raises(UserError, match="no finished index"):
        WikiIndex(tmp_path / "ix")


def _interrupted(articles, at: int):
    """The articles, with a KeyboardInterrupt where article number `at` would come."""
    for i, article in enumerate(articles):
        if i == at:
            raise KeyboardInterrupt
        yield article


def _never_read():
    raise AssertionError("a resumable source is not parsed from its start")
    yield


def _jsonl(path, n=12):
    path.write_text("".join(json.dumps({"title": f"Town {i}", "text": f"Town {i} grew in {1900 + i}. "
                                        f"Its harbour {i} saw ships. Word{i} appears here."}) + "\n"
                            for i in range(n)))
    return path


def test_resumed_index_equals_an_uninterrupted_one_and_skips_by_offset(tmp_path, monkeypatch):
    """The TF-IDF reservoir (and its RNG) survives the restart, and JSONL resumes at the byte offset."""
    import creative_painting.extension.index as index_module
    from creative_painting.extension.corpus import resumable_at

    monkeypatch.setattr(index_module, "TFIDF_SAMPLE", 10)  # small, so that the reservoir replaces sentences
    source = _jsonl(tmp_path / "w.jsonl")
    straight = build_index(iter_articles(source), tmp_path / "a", source="s", commit_every=3, progress=False)

    with pytest.raises(KeyboardInterrupt):
        build_index(_interrupted(iter_articles(source), 7), tmp_path / "b", source="s", commit_every=3, progress=False)
    assert json.loads((tmp_path / "b" / "progress.json").read_text())["articles"] == 6
    assert (tmp_path / "b" / "reservoir.json").is_file()

    reopened = []

    def reopen(position):
        reopened.append(position)
        return resumable_at(source)(position)

    resumed = build_index(_never_read(), tmp_path / "b", source="s", commit_every=3, progress=False, reopen=reopen)
    assert reopened and reopened[0] == len(b"".join(source.read_bytes().splitlines(keepends=True)[:6]))
    assert (resumed["articles"], resumed["sentences"]) == (straight["articles"], straight["sentences"])
    assert json.loads((tmp_path / "b" / "tfidf.json").read_text()) == json.loads((tmp_path / "a" / "tfidf.json").read_text())
    assert not (tmp_path / "b" / "reservoir.json").exists()


def test_a_finished_index_is_not_rebuilt(tmp_path, capsys):
    source = _jsonl(tmp_path / "w.jsonl")
    assert main(["wiki", "index", str(source), str(tmp_path / "ix"), "--no-progress"]) == 0
    capsys.readouterr()
    source.write_text("this would fail to parse\n")  # a second run must not read the source at all
    assert main(["wiki", "index", str(source), str(tmp_path / "ix"), "--no-progress"]) == 0
    assert "already a complete index of 12 articles" in capsys.readouterr().out


def test_a_failed_first_build_leaves_no_folder(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "A", "text": "fine."}\nnot json\n')
    assert main(["wiki", "index", str(bad), str(tmp_path / "ix"), "--no-progress"]) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err
    assert not (tmp_path / "ix").exists()
    (tmp_path / "empty").mkdir()
    assert main(["wiki", "index", str(bad), str(tmp_path / "empty"), "--no-progress"]) == 2
    assert list((tmp_path / "empty").iterdir()) == []  # an empty folder of the user's stays empty


def _multistream(path, articles, per_stream=2):
    """A `*-multistream.xml.bz2` as Wikimedia writes it: a header stream, streams of pages, a footer stream."""
    import bz2

    from tests.extension.conftest import _escape

    pages = [f"  <page><title>{t}</title><ns>0</ns><id>{i}</id><revision><text>{_escape(body)}</text></revision>"
             f"</page>\n" for i, (t, body) in enumerate(articles.items(), 1)]
    streams = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/"><siteinfo><sitename>W</sitename>'
               '</siteinfo>\n']
    streams += ["".join(pages[i : i + per_stream]) for i in range(0, len(pages), per_stream)]
    streams.append("</mediawiki>\n")
    path.write_bytes(b"".join(bz2.compress(s.encode()) for s in streams))
    return path


def test_a_multistream_dump_reads_like_one_stream_and_resumes_at_its_stream(tmp_path):
    from creative_painting.extension.corpus import is_multistream, iter_xml_dump, resumable_at

    articles = {f"Town {i}": f"Town {i} grew in {1900 + i}. Its harbour {i} saw ships." for i in range(7)}
    multi = _multistream(tmp_path / "enwiki-multistream.xml.bz2", articles)
    single = write_dump(tmp_path / "enwiki-pages-articles.xml.bz2", articles)
    assert is_multistream(multi) and not is_multistream(single)
    assert [(a.title, a.text) for a in iter_articles(multi)] == [(a.title, a.text) for a in iter_xml_dump(single)]

    straight = build_index(iter_articles(multi), tmp_path / "a", source="m", commit_every=3, progress=False)

    with pytest.raises(KeyboardInterrupt):
        build_index(_interrupted(iter_articles(multi), 4), tmp_path / "b", source="m", commit_every=3, progress=False)
    reopened = []

    def reopen(position):
        reopened.append(list(position))
        return resumable_at(multi)(position)

    resumed = build_index(_never_read(), tmp_path / "b", source="m", commit_every=3, progress=False, reopen=reopen)
    assert reopened[0][1] == 1  # the 3rd article is the 1st of the 2nd page stream: resume after it
    assert (resumed["articles"], resumed["sentences"]) == (straight["articles"], straight["sentences"])
    assert json.loads((tmp_path / "b" / "tfidf.json").read_text()) == json.loads((tmp_path / "a" / "tfidf.json").read_text())
