"""`wiki index` at Wikipedia's scale (issue 42): a multistream dump parsed by several processes gives the index one
process gives, resumes the same way, says where a dump is damaged; the title boost ranks an article's own
sentences first."""

from __future__ import annotations

import gc
import json
import shutil

import pytest

from creative_painting.cli.main import main
from creative_painting.errors import UserError
from creative_painting.extension import WikiIndex, build_index, iter_articles
from creative_painting.extension.corpus import Article, resumable_at

from .test_corpus_and_index import _interrupted, _multistream, _never_read

TOWNS = {f"Town {i}": f"Town {i} grew along the river in {1900 + i}. Its harbour {i} saw fishing boats and "
                      f"ferries every morning. Painters came to town {i} for the light on the water."
         for i in range(11)}
QUERIES = ("harbour fishing boats", "town river 1905", "painters light water")
BUILDINGS = ("mill", "barn", "chapel", "forge", "bakery", "tower", "bridge", "school", "inn", "market", "stable", "dairy",
             "granary", "smithy", "tannery", "brewery", "pottery", "kiln", "quarry", "orchard", "vineyard", "pond",
             "windmill", "watermill", "dovecote", "cottage", "manor", "rectory", "tavern")


def _results(index_dir):
    index = WikiIndex(index_dir)
    return [[(h.title, h.text, round(h.score, 5)) for h in index.search(q, 20)] for q in QUERIES]


def test_workers_build_the_index_one_process_builds(tmp_path, capsys):
    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    for workers in (1, 2):
        assert main(["wiki", "index", str(dump), str(tmp_path / f"w{workers}"), "--workers", str(workers),
                     "--no-progress"]) == 0
    assert "11 articles" in capsys.readouterr().out
    one, two = (json.loads((tmp_path / f"w{w}" / "progress.json").read_text()) for w in (1, 2))
    assert (one["articles"], one["sentences"], one["position"]) == (two["articles"], two["sentences"], two["position"])
    assert _results(tmp_path / "w1") == _results(tmp_path / "w2")
    assert (tmp_path / "w1" / "tfidf.json").read_text() == (tmp_path / "w2" / "tfidf.json").read_text()


def test_a_parallel_build_resumes_to_the_uninterrupted_index(tmp_path):
    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    straight = build_index(iter_articles(dump, 2), tmp_path / "a", source="m", commit_every=2, progress=False)
    with pytest.raises(KeyboardInterrupt):
        build_index(_interrupted(iter_articles(dump, 2), 7), tmp_path / "b", source="m", commit_every=2,
                    progress=False)
    assert json.loads((tmp_path / "b" / "progress.json").read_text())["articles"] == 6  # the last commit
    resumed = build_index(_never_read(), tmp_path / "b", source="m", commit_every=2, progress=False,
                          reopen=resumable_at(dump, 2))
    assert (resumed["articles"], resumed["sentences"]) == (straight["articles"], straight["sentences"])
    assert _results(tmp_path / "a") == _results(tmp_path / "b")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_damaged_stream_is_named_by_its_byte_and_what_came_before_is_kept(tmp_path, capsys, workers):
    import bz2

    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    data = dump.read_bytes()
    starts = [i for i in range(len(data)) if data.startswith(b"BZh91AY&SY", i)]
    third = starts[3]  # the third page stream (after the header stream)
    assert bz2.decompress(data[starts[2]:third])  # the second page stream is whole
    dump.write_bytes(data[:third + 40] + data[starts[4]:])  # the third is cut off, the rest follows
    assert main(["wiki", "index", str(dump), str(tmp_path / "i"), "--workers", str(workers), "--no-progress",
                 ]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"the bz2 stream at byte {third:,} is damaged" in err, err


def test_a_worker_that_dies_is_one_line_and_what_came_before_is_kept(tmp_path, capsys, monkeypatch):
    """A parsing process killed (out of memory) mid-dump: one line that says so, exit 2, the commits kept.
    (`tests/test_parallel.py` kills a real worker; here the map says it died after two streams.)"""
    from creative_painting import parallel

    def dies_after_two(fn, items, workers, in_flight=None):
        items = iter(items)
        yield fn(next(items))  # the header stream: no article
        yield fn(next(items))  # the first 3 towns
        raise parallel.WorkerDied("a worker process died (killed, or out of memory with 2 workers: try fewer)")

    monkeypatch.setattr(parallel, "ordered_map", dies_after_two)
    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    assert main(["wiki", "index", str(dump), str(tmp_path / "i"), "--workers", "2", "--no-progress",
                 "--commit-every", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a worker process died" in err and "indexed and kept" in err, err
    assert "corrupt" not in err  # a dead worker says nothing about the dump
    assert json.loads((tmp_path / "i" / "progress.json").read_text())["articles"] == 3


def test_wiki_index_refuses_a_bad_worker_count(tmp_path, capsys):
    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS)
    assert main(["wiki", "index", str(dump), str(tmp_path / "i"), "--workers", "0"]) == 2
    assert "--workers must be in 1..256" in capsys.readouterr().err
    assert not (tmp_path / "i").exists()


def test_the_title_boost_ranks_an_articles_own_sentences_first(tmp_path):
    """Without the boost (1.0), sentences that merely say "china" outrank those of the article China."""
    country = " ".join(f"The country has {w} provinces and long rivers in the east." for w in
                       ("many", "old", "green", "large"))
    articles = [Article("China", country),
                Article("Porcelain", "Fine china is white clay fired in a hot kiln until it rings. Painted plates "
                                     "and cups of china were traded far."),
                Article("Tea", "Tea was first drunk in China and later spread along trade routes to many lands."),
                Article("River", "A river flows to the sea through many lands and valleys in spring.")]
    build_index(articles, tmp_path, source="t", progress=False)
    assert [h.title for h in WikiIndex(tmp_path).search("china", 4)] == ["China"] * 4
    # measured: with the boost 2.0 China's sentences score 1.39, Porcelain's 1.04; with 1.0 China's fall to 0.69


def test_a_build_killed_between_a_commit_and_its_record_resumes_to_the_uninterrupted_index(tmp_path, monkeypatch):
    """tantivy committed, our record of it not yet current (a SIGKILL there): the next run counts the index's
    documents and takes the pending record; a pending record whose commit never happened is dropped."""
    import creative_painting.extension.index as index_module

    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    straight = build_index(iter_articles(dump), tmp_path / "a", source="m", commit_every=2, progress=False)
    promote, calls = index_module._promote, []

    def killed(folder):
        calls.append(folder)
        if len(calls) == 2:  # the second commit is made; its record stays pending
            raise KeyboardInterrupt
        promote(folder)

    monkeypatch.setattr(index_module, "_promote", killed)
    with pytest.raises(KeyboardInterrupt):
        build_index(iter_articles(dump), tmp_path / "b", source="m", commit_every=2, progress=False)
    monkeypatch.setattr(index_module, "_promote", promote)
    assert json.loads((tmp_path / "b" / "progress.json").read_text())["articles"] == 2
    assert json.loads((tmp_path / "b" / "progress.json.pending").read_text())["articles"] == 4
    resumed = build_index(iter_articles(dump), tmp_path / "b", source="m", commit_every=2, progress=False)
    assert (resumed["articles"], resumed["sentences"]) == (straight["articles"], straight["sentences"])
    assert _results(tmp_path / "a") == _results(tmp_path / "b")
    assert (tmp_path / "a" / "tfidf.json").read_text() == (tmp_path / "b" / "tfidf.json").read_text()

    with pytest.raises(KeyboardInterrupt):  # killed after 2 commits; then a record whose commit never came
        build_index(_interrupted(iter_articles(dump), 5), tmp_path / "c", source="m", commit_every=2, progress=False)
    state = json.loads((tmp_path / "c" / "progress.json").read_text())
    (tmp_path / "c" / "progress.json.pending").write_text(json.dumps({**state, "articles": 6, "sentences": 999}))
    resumed = build_index(iter_articles(dump), tmp_path / "c", source="m", commit_every=2, progress=False)
    assert (resumed["articles"], resumed["sentences"]) == (straight["articles"], straight["sentences"])
    assert _results(tmp_path / "a") == _results(tmp_path / "c")


@pytest.mark.slow
@pytest.mark.parametrize("shards", ["1", "2"])
def test_wiki_index_killed_with_sigkill_then_run_again_gives_the_uninterrupted_index(tmp_path, shards):
    import os
    import signal
    import subprocess
    import sys
    import time

    towns = {f"Town {i}": body for i, body in enumerate(list(TOWNS.values()) * 200)}  # (80 finished in 4.5 s once)
    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", towns, per_stream=20)
    command = [sys.executable, "-m", "creative_painting.cli.main", "wiki", "index", str(dump)]
    subprocess.run([*command, str(tmp_path / "a"), "--no-progress", "--shards", shards], check=True,
                   capture_output=True)
    resume = [*command, str(tmp_path / "b"), "--no-progress", "--commit-every", "7", "--shards", shards]
    committed = []
    for delay in (1.0, 2.0, 1.5):  # killed while workers start, and while indexing (between and in commits)
        process = subprocess.Popen(resume, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        state = json.loads((tmp_path / "b" / "progress.json").read_text())
        assert not state["done"], "the build finished before it was killed: make the dump larger"
        committed.append(state["articles"])
    assert committed[-1] > 0, committed  # some were killed after commits
    subprocess.run(resume, check=True, capture_output=True)
    one, two = (json.loads((tmp_path / x / "progress.json").read_text()) for x in "ab")
    assert (one["articles"], one["sentences"]) == (two["articles"], two["sentences"]) and two["done"]
    assert _results(tmp_path / "a") == _results(tmp_path / "b")
    assert _shard_sizes(tmp_path / "a") == _shard_sizes(tmp_path / "b")  # [] for one index


def test_a_large_index_leaves_common_words_out_of_queries(tmp_path):
    """Over `common_above` sentences, the stop words and words in over 5 % of sentences (`common_words.json`, from
    the index's TF-IDF sample) are not searched; a query of nothing else searches titles ("The Well"), not every
    sentence that holds them. A small index searches every word everywhere."""
    from creative_painting.extension.index import COMMON_FILE

    articles = [Article(f"Village {i}", f"The well of the village {i} is near the old road. The {word} stands by it.")
                for i, word in enumerate(BUILDINGS)] + [Article("The Well", "A novel of 1928 by Radclyffe Hall.")]
    build_index(articles, tmp_path, source="v", progress=False)
    common = json.loads((tmp_path / COMMON_FILE).read_text())
    assert {"the", "of", "is", "well", "village", "road"} <= set(common) and "forge" not in common
    small, large = WikiIndex(tmp_path), WikiIndex(tmp_path, common_above=0)
    assert small.common == frozenset() and "well" in large.common
    by_forge = [(h.title, h.text) for h in large.search("forge", 20)]
    assert [(h.title, h.text) for h in large.search("the forge of the well", 20)] == by_forge
    assert [(h.title, h.text) for h in small.search("the forge of the well", 20)] != by_forge  # "well" counted
    assert {h.title for h in large.search("the well", 20)} == {"The Well"}  # nothing but common words: titles
    assert len({h.title for h in small.search("the well", 20)}) > 1


def test_a_full_disk_is_one_line_keeps_what_was_committed_and_resumes(tmp_path, capsys, monkeypatch):
    """tantivy reports its writer thread's "No space left on device" as a ValueError: a line saying what is kept,
    exit 2, no index presented as finished; with space again, the same command finishes the index a run without
    the failure builds. (Checked by hand on a 3 MB tmpfs: the same two messages.)"""
    import errno

    from creative_painting.extension import index as index_module

    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    commit, calls = index_module._commit, []

    def killed_writer():
        return ValueError("An error occurred in a thread: 'An index writer was killed.. A worker thread encountered "
                          "an error (io::Error most likely) or panicked.'")

    def full_after(n, error=killed_writer):  # a new error each time: a kept one's traceback would keep the writer
        def fails(*args):
            calls.append(1)
            if len(calls) > n:
                raise error()
            commit(*args)
        return fails

    args = ["wiki", "index", str(dump), str(tmp_path / "idx"), "--workers", "1", "--no-progress", "--commit-every", "4"]
    monkeypatch.setattr(index_module, "_commit", full_after(0))
    assert main(args) == 2
    assert "nothing was committed" in capsys.readouterr().err and not (tmp_path / "idx").exists()
    monkeypatch.setattr(index_module, "_commit", full_after(len(calls), lambda: OSError(errno.ENOSPC, "No space left")))
    assert main(args) == 2  # Python's own full disk, as atomic_write_text meets it
    assert "([Errno 28] No space left), " in capsys.readouterr().err and not (tmp_path / "idx").exists()
    monkeypatch.setattr(index_module, "_commit", full_after(len(calls) + 1))  # the disk fills after one commit
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the 4 articles committed are kept" in err[0] and "MB free there" in err[0]
    assert main(["extend", "harbour", "--index", str(tmp_path / "idx")]) == 2  # not a finished index
    assert "no finished index" in capsys.readouterr().err
    monkeypatch.setattr(index_module, "_commit", commit)
    assert main(args) == 0 and main([*args[:3], str(tmp_path / "ref"), *args[4:]]) == 0
    assert _results(tmp_path / "idx") == _results(tmp_path / "ref")


@pytest.mark.parametrize("backwards", [False, True])
def test_hits_that_tie_are_ordered_by_title_and_text_whatever_order_the_build_added_them(tmp_path, backwards):
    """Sentences of one length that hold the query word once tie; tantivy returns the first it meets (a resumed build
    meets them in another order), so `search` reads every hit that ties the k-th and orders them by title and text.
    More tied harbours than the first search reads, added first to last and last to first (one order or the other
    defeats any shortcut), as articles of their own and as the sentences of one article: the first 5 by name."""
    from creative_painting.extension.index import TIES

    numbers = [f"{i:04d}" for i in range(5 + TIES + 50)]
    added = numbers[::-1] if backwards else numbers
    apart = [Article(f"Harbour {n}", f"Boats rest in {n} tonight.") for n in added]
    together = [Article("Harbours", " ".join(f"Boats rest in {n} tonight." for n in added))]
    for name, articles in (("apart", apart), ("together", together)):
        build_index(articles, tmp_path / name, source="t", progress=False)
        hits = WikiIndex(tmp_path / name).search("boats", 5)
        assert len({h.score for h in hits}) == 1  # they do tie
        assert [h.text for h in hits] == [f"Boats rest in {n} tonight." for n in numbers[:5]], name


def _positions_schema():
    """The schema of indexes begun before 2026-12-07: every word's positions too."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    for field in ("title", "text"):
        builder.add_text_field(field, stored=True, tokenizer_name="en_stem")
    return builder.build()


def test_an_index_keeps_no_positions_and_one_begun_with_them_resumes(tmp_path, monkeypatch):
    """No query reads a word's positions (10 % of a large index): a new index stores none. A build begun by an
    earlier version, with positions, resumes in its own schema to the same hits."""
    import creative_painting.extension.index as index_module

    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    build_index(iter_articles(dump), tmp_path / "new", source="m", commit_every=2, progress=False)
    monkeypatch.setattr(index_module, "_schema", _positions_schema)
    build_index(iter_articles(dump), tmp_path / "old", source="m", commit_every=2, progress=False)
    with pytest.raises(KeyboardInterrupt):
        build_index(_interrupted(iter_articles(dump), 7), tmp_path / "begun", source="m", commit_every=2,
                    progress=False)
    monkeypatch.undo()

    def records(folder):  # what tantivy stores of each word, field by field
        return [f["options"]["indexing"]["record"] for f in json.loads((folder / "meta.json").read_text())["schema"]]

    assert records(tmp_path / "new") == ["freq", "freq"] and records(tmp_path / "old") == ["position", "position"]
    assert records(tmp_path / "begun") == ["position", "position"]
    assert _results(tmp_path / "new") == _results(tmp_path / "old")  # the same scores without them
    resumed = build_index(_never_read(), tmp_path / "begun", source="m", commit_every=2, progress=False,
                          reopen=resumable_at(dump))
    assert resumed["done"] and _results(tmp_path / "begun") == _results(tmp_path / "old")
    assert records(tmp_path / "begun") == ["position", "position"]  # resumed in the schema it was begun with


def _shard_sizes(index_dir) -> list[int]:
    import tantivy

    sizes = []
    for folder in sorted(index_dir.glob("shard-*")):
        index = tantivy.Index.open(str(folder))
        index.reload()
        sizes.append(index.searcher().num_docs)
    return sizes


@pytest.mark.parametrize("backwards", [False, True])
def test_a_sharded_index_searches_every_shard_and_orders_ties_across_them(tmp_path, backwards):
    """Sentence n goes to shard n % 2; the shards are searched side by side and their hits merged. Tied hits span both
    shards, more in each than its first search reads: the first 5 by name, whichever shard holds them. (The two
    shards hold the same number of sentences of one length, so their BM25 statistics, and the scores, are equal.)"""
    from creative_painting.extension.index import TIES

    numbers = [f"{i:04d}" for i in range(2 * (5 + TIES + 50))]
    added = numbers[::-1] if backwards else numbers
    build_index([Article(f"Harbour {n}", f"Boats rest in {n} tonight.") for n in added], tmp_path, source="t",
                progress=False, shards=2)
    assert _shard_sizes(tmp_path) == [len(numbers) // 2] * 2 and not (tmp_path / "meta.json").exists()
    wiki = WikiIndex(tmp_path)
    hits = wiki.search("boats", 5)
    assert len({h.score for h in hits}) == 1  # they do tie
    assert [h.text for h in hits] == [f"Boats rest in {n} tonight." for n in numbers[:5]]
    assert [h.title for h in wiki.search("harbour 0003", 1)] == ["Harbour 0003"]  # in shard 1 (or 0, backwards)
    assert [h.title for h in wiki.search("harbour 0004", 1)] == ["Harbour 0004"]


@pytest.mark.parametrize("killed_at", [4, 5, 6])
def test_a_sharded_build_killed_between_its_shards_commits_resumes_to_the_uninterrupted_index(tmp_path, monkeypatch,
                                                                                             killed_at):
    """A commit of 2 shards records shard 0, shard 1, then the whole (calls 4, 5, 6 of `_promote` in the second
    commit). Killed at the 4th, shard 0 holds 4 articles and the whole record says 2: the resumed build adds the
    sentences of the 3rd and 4th articles to shard 1 only, and every shard ends with the documents of the
    uninterrupted build."""
    import creative_painting.extension.index as index_module

    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    build_index(iter_articles(dump), tmp_path / "a", source="m", commit_every=2, progress=False, shards=2)
    promote, calls = index_module._promote, []

    def killed(folder):
        calls.append(folder)
        if len(calls) == killed_at:  # this shard (or the whole) has committed; its record stays pending
            raise KeyboardInterrupt
        promote(folder)

    monkeypatch.setattr(index_module, "_promote", killed)
    with pytest.raises(KeyboardInterrupt):
        build_index(iter_articles(dump), tmp_path / "b", source="m", commit_every=2, progress=False, shards=2)
    monkeypatch.setattr(index_module, "_promote", promote)
    assert json.loads((tmp_path / "b" / "progress.json").read_text())["articles"] == 2
    assert _shard_sizes(tmp_path / "b") != _shard_sizes(tmp_path / "a")
    # the whole's pending record is written after every shard's commit: it holds, and the 3rd and 4th are not read again
    assert index_module._settle(tmp_path / "b")["articles"] == (4 if killed_at == 6 else 2)
    resumed = build_index(iter_articles(dump), tmp_path / "b", source="m", commit_every=2, progress=False)
    straight = json.loads((tmp_path / "a" / "progress.json").read_text())
    assert (resumed["articles"], resumed["sentences"], resumed["shards"]) == (straight["articles"],
                                                                            straight["sentences"], 2)
    assert _shard_sizes(tmp_path / "b") == _shard_sizes(tmp_path / "a")
    assert _results(tmp_path / "a") == _results(tmp_path / "b")
    assert (tmp_path / "a" / "tfidf.json").read_text() == (tmp_path / "b" / "tfidf.json").read_text()


def test_wiki_index_shards_on_request_and_refuses_a_bad_count(tmp_path, capsys):
    """A small dump is one index unless asked (`SHARDED_ABOVE`); `--shards 2` gives two that `extend` reads."""
    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    assert main(["wiki", "index", str(dump), str(tmp_path / "i"), "--shards", "0", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--shards must be in 1..64" in err and not (tmp_path / "i").exists()
    assert main(["wiki", "index", str(dump), str(tmp_path / "one"), "--no-progress"]) == 0
    assert (tmp_path / "one" / "meta.json").is_file() and not list((tmp_path / "one").glob("shard-*"))
    assert main(["wiki", "index", str(dump), str(tmp_path / "two"), "--shards", "2", "--no-progress"]) == 0
    assert len(_shard_sizes(tmp_path / "two")) == 2 and sum(_shard_sizes(tmp_path / "two")) == sum(
        _shard_sizes(tmp_path / "one") or [WikiIndex(tmp_path / "one").num_docs])
    capsys.readouterr()
    assert main(["extend", "harbour fishing boats", "--index", str(tmp_path / "two"), "--top", "2", "--json"]) == 0
    assert "harbour" in capsys.readouterr().out.lower()


def test_a_word_that_recurs_in_one_article_is_spread_over_the_shards(tmp_path):
    """Shards are cut by sentence, not by article: a word an article repeats ("kiln", 4 times) is in each shard as
    often, so each shard's BM25 statistics stay close to the whole's (cut by article, one shard holds all 4)."""
    import tantivy

    articles = [Article(f"Village {i}", f"The {w} stands by the road. Carts pass the {w} at noon.")
                for i, w in enumerate(BUILDINGS[:12])]
    articles.insert(5, Article("Pottery", "The kiln is hot. Clay dries by the kiln. Pots leave the kiln at dusk. "
                                          "A kiln burns wood."))
    build_index(articles, tmp_path, source="p", progress=False, shards=2)
    counts = []
    for folder in sorted(tmp_path.glob("shard-*")):
        index = tantivy.Index.open(str(folder))
        index.reload()
        counts.append(index.searcher().search(index.parse_query("kiln", ["text"]), 10).count)
    assert counts == [2, 2]


@pytest.mark.parametrize("backwards", [False, True])
def test_only_a_full_shard_whose_last_hit_ties_is_searched_again(tmp_path, backwards):
    """Every article's first sentence (an even one) is in shard 0 and says "boats": shard 0 is full of tied hits, shard
    1 has none. Shard 0 alone is searched again, until all its ties are read: the first 5 by name."""
    from creative_painting.extension.index import TIES

    numbers = [f"{i:04d}" for i in range(5 + TIES + 50)]
    added = numbers[::-1] if backwards else numbers
    build_index([Article(f"Harbour {n}", f"Boats rest in {n} tonight. Gulls cry over the pier.") for n in added],
                tmp_path, source="t", progress=False, shards=2)
    wiki, searched = WikiIndex(tmp_path), []
    first_hits = wiki.first_hits
    wiki.first_hits = lambda query, limit, shards=None: searched.append((limit, shards)) or first_hits(query, limit,
                                                                                                      shards)
    hits = wiki.search("boats", 5)
    assert len({h.score for h in hits}) == 1
    assert [h.text for h in hits] == [f"Boats rest in {n} tonight." for n in numbers[:5]]
    assert searched == [(5 + TIES, None), (4 * (5 + TIES), [0])]


@pytest.mark.parametrize("killed_at", [3, 4])
def test_a_shard_killed_between_its_record_and_its_commit_resumes_to_the_uninterrupted_index(tmp_path, monkeypatch,
                                                                                            killed_at):
    """The second commit of 2 shards commits shard 0, then shard 1 (calls 3 and 4 of a writer's commit). Killed
    there, that shard's pending record names 4 articles its index does not hold: it is dropped, and the resumed
    build adds them."""
    import creative_painting.extension.index as index_module

    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    build_index(iter_articles(dump), tmp_path / "a", source="m", commit_every=2, progress=False, shards=2)
    open_writer, commits = index_module._open_writer, []

    class Killed:
        def __init__(self, writer):
            self.writer = writer

        def __getattr__(self, name):
            return getattr(self.writer, name)

        def commit(self):
            commits.append(self)
            if len(commits) == killed_at:
                raise KeyboardInterrupt
            return self.writer.commit()

    monkeypatch.setattr(index_module, "_open_writer", lambda folder, heap: Killed(open_writer(folder, heap)))
    with pytest.raises(KeyboardInterrupt):
        build_index(iter_articles(dump), tmp_path / "b", source="m", commit_every=2, progress=False, shards=2)
    monkeypatch.undo()
    commits.clear()  # the killed build's writers, freed (they hold tantivy's lock)
    gc.collect()
    shard = tmp_path / "b" / f"shard-{killed_at - 3}"
    assert json.loads((shard / "progress.json.pending").read_text())["articles"] == 4
    shutil.copytree(shard, tmp_path / "copy")  # (settled here, the resumed build would find nothing pending)
    assert index_module._settle(tmp_path / "copy")["articles"] == 2
    build_index(iter_articles(dump), tmp_path / "b", source="m", commit_every=2, progress=False)
    assert _shard_sizes(tmp_path / "b") == _shard_sizes(tmp_path / "a")
    assert _results(tmp_path / "a") == _results(tmp_path / "b")


def _begun(tmp_path, shards=2):
    """A 2-shard build of TOWNS killed after its second commit, as `wiki index` would resume it."""
    from .test_corpus_and_index import _interrupted

    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    with pytest.raises(KeyboardInterrupt):
        build_index(_interrupted(iter_articles(dump), 5), tmp_path / "i", source=str(dump.resolve()), commit_every=2,
                    progress=False, shards=shards)
    return dump, tmp_path / "i"


def _one_line_error(capsys, *needles) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(n in err for n in needles), err
    return err


def _files(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_resume_without_a_shard_is_refused_and_nothing_is_lost(tmp_path, capsys):
    """A shard folder removed (or replaced by an older one) would resume short, silently: refused instead."""
    dump, index_dir = _begun(tmp_path)
    shutil.rmtree(index_dir / "shard-1")
    before = _files(index_dir)
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress"]) == 2
    _one_line_error(capsys, "shard-1 holds 0 articles, the build's record 4", "delete")
    assert _files(index_dir) == before and not (index_dir / "shard-1").exists()


def test_a_resume_with_a_shard_of_another_build_is_refused(tmp_path, capsys):
    """A shard folder copied in from another build (here ahead of ours, so its article count alone would pass)."""
    dump, index_dir = _begun(tmp_path)
    other = {f"City {i}": f"City {i} has a tram line and a market hall. Its square is paved with stone." for i in range(9)}
    build_index(iter_articles(_multistream(tmp_path / "other.xml.bz2", other, per_stream=3)), tmp_path / "other",
                source="o", progress=False, shards=2)
    shutil.rmtree(index_dir / "shard-1")
    shutil.copytree(tmp_path / "other" / "shard-1", index_dir / "shard-1")
    before = _files(index_dir)
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress"]) == 2
    _one_line_error(capsys, "shard-1 is a shard of another build")
    assert _files(index_dir) == before


def test_a_resume_with_too_small_a_heap_for_its_shards_is_one_line(tmp_path, capsys):
    """--heap-mb 16 is enough for one index, not for the 2 shards the build was begun with (tantivy's own error
    would say to delete the shard); a finished index needs no heap, so it is left as it is."""
    dump, index_dir = _begun(tmp_path)
    before = _files(index_dir)
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress", "--heap-mb", "16"]) == 2
    _one_line_error(capsys, "--heap-mb must be at least 16 a shard", "32 for 2")
    assert _files(index_dir) == before
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress"]) == 0
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress", "--heap-mb", "16"]) == 0
    assert "already a complete index" in capsys.readouterr().out


def test_a_resume_with_another_shard_count_is_refused(tmp_path, capsys):
    dump, index_dir = _begun(tmp_path)
    before = _files(index_dir)
    for flags in (["--shards", "1"], ["--shards", "3"]):
        assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress", *flags]) == 2
        _one_line_error(capsys, "was begun with --shards 2")
        assert _files(index_dir) == before
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress", "--shards", "2"]) == 0
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress", "--shards", "4"]) == 2  # done, too
    _one_line_error(capsys, "was begun with --shards 2")
    shutil.rmtree(index_dir / "shard-1")  # a finished index without a shard is not "complete"
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress"]) == 2
    _one_line_error(capsys, "finished index without its shard-1")


@pytest.mark.parametrize("shards", ["x", 0, 65, 2.0, None])
def test_a_bad_shard_count_in_the_record_is_one_line(tmp_path, capsys, shards):
    dump, index_dir = _begun(tmp_path)
    record = index_dir / "progress.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "shards": shards}))
    assert main(["wiki", "index", str(dump), str(index_dir), "--no-progress"]) == 2
    _one_line_error(capsys, "corrupt", "progress.json", "shards must be")
    assert main(["extend", "harbour", "--index", str(index_dir)]) == 2
    _one_line_error(capsys, "corrupt", "progress.json")


def test_shards_share_the_writer_heap(tmp_path, capsys, monkeypatch):
    """Each shard's writer needs tantivy's smallest heap (16 MB): the default count stays within --heap-mb (64 cores,
    256 MB: 16 shards), and an explicit count above it is one line."""
    from creative_painting.extension import index as index_module

    monkeypatch.setattr(index_module, "usable_cores", lambda: 64)
    big = index_module.SHARDED_ABOVE + 1
    assert [index_module.default_shards(b, h * 2**20) for b, h in ((big, 256), (big, 2048), (big, 40), (2**20, 256))] == [
        16, 64, 2, 1]
    monkeypatch.setattr(index_module, "usable_cores", lambda: 2)
    assert index_module.default_shards(big, 256 * 2**20) == 2
    dump = _multistream(tmp_path / "enwiki-multistream.xml.bz2", TOWNS, per_stream=3)
    assert main(["wiki", "index", str(dump), str(tmp_path / "i"), "--shards", "4", "--heap-mb", "48"]) == 2
    _one_line_error(capsys, "--heap-mb must be at least 16 a shard", "64 for 4")
    assert not (tmp_path / "i").exists()


def test_a_build_killed_inside_its_first_record_runs_again(tmp_path):
    """Killed while writing its first record, a build leaves the lock and the record's temporary file: the same
    command builds the index (anything else in the folder is still refused)."""
    (tmp_path / "i").mkdir()
    (tmp_path / "i" / ".progress.json.x1y2.tmp").write_text("{")
    (tmp_path / "i" / ".creative-painting.lock").write_text("")
    build_index([Article("Town 1", TOWNS["Town 1"])], tmp_path / "i", source="t", progress=False)
    assert not list((tmp_path / "i").glob("*.tmp")) and WikiIndex(tmp_path / "i").search("harbour")
    for leftovers in ([], [".progress.json.x1y2.tmp", ".creative-painting.lock"]):
        (tmp_path / "j").mkdir(exist_ok=True)
        for name in leftovers:
            (tmp_path / "j" / name).write_text("")
        (tmp_path / "j" / "notes.txt").write_text("mine")
        with pytest.raises(UserError, match="not empty and holds no index"):
            build_index([Article("Town 1", TOWNS["Town 1"])], tmp_path / "j", source="t", progress=False)
        assert (tmp_path / "j" / "notes.txt").read_text() == "mine"
