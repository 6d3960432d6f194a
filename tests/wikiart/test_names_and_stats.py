import json
from pathlib import Path

import pytest

from creative_painting.cli.main import main
from creative_painting.wikiart import (
    artist_display_name,
    collection_stats,
    iter_source,
    parse_path,
    repair_mojibake,
)


@pytest.mark.parametrize(("slug", "name"), [
    ("vincent-van-gogh", "Vincent van Gogh"), ("pierre-auguste-renoir", "Pierre Auguste Renoir"),
    ("leonardo-da-vinci", "Leonardo da Vinci"), ("rembrandt", "Rembrandt"),
    ("grã©goire-michonze", "Grégoire Michonze"), ("joaquã­n-sorolla", "Joaquín Sorolla"),
])
def test_artist_display_names(slug, name):
    assert artist_display_name(slug) == name


def test_mojibake_repair_leaves_clean_text_alone():
    assert repair_mojibake("claude-monet") == "claude-monet"
    assert repair_mojibake("grã©goire") == "grégoire"


@pytest.mark.parametrize(("path", "title", "year", "style"), [
    ("Post_Impressionism/vincent-van-gogh_ears-of-wheat-1890(1).jpg", "Ears of wheat", 1890, "Post-Impressionism"),
    ("Symbolism/theodor-severin-kittelsen_kvitebj-rn-kong-valemon-1912-2.jpg", "Kvitebj rn kong valemon", 1912,
     "Symbolism"),
    ("Realism/camille-corot_mantes-cathedral.jpg", "Mantes cathedral", None, "Realism"),
    ("Abstract_Expressionism/x-y_composition-5533.jpg", "Composition 5533", None, "Abstract Expressionism"),
    ("Ukiyo_e/hokusai_fuji-1148.jpg", "Fuji 1148", None, "Ukiyo-e"),
])
def test_parse_path(path, title, year, style):
    art = parse_path(path)
    assert (art.title, art.year, art.style) == (title, year, style)


def test_bad_path_is_a_value_error():
    with pytest.raises(ValueError, match="not a WikiArt path"):
        parse_path("no-folder.jpg")


def _write_lists(folder: Path) -> Path:
    rows = ["Impressionism/claude-monet_water-lilies-1916.jpg,12", "Impressionism/claude-monet_haystacks.jpg,12",
            "Post_Impressionism/vincent-van-gogh_irises-1889.jpg,20", "Realism/gustave-courbet_the-wave-1870.jpg,21"]
    (folder / "style_train.csv").write_text("\n".join(rows[:3]) + "\n")
    (folder / "style_val.csv").write_text(rows[3] + "\n" + rows[0] + "\n")  # one path listed twice
    return folder


def test_stats_from_csv_lists_and_from_a_folder_agree(tmp_path):
    lists = _write_lists(tmp_path)
    source = f"{lists / 'style_train.csv'},{lists / 'style_val.csv'}"
    from_csv = collection_stats(iter_source(source))
    tree = tmp_path / "wikiart"
    for art in iter_source(source):
        (tree / art.path).parent.mkdir(parents=True, exist_ok=True)
        (tree / art.path).write_bytes(b"")  # names only: stats never opens an image
    assert collection_stats(iter_source(tree)) == from_csv
    assert (from_csv["images"], from_csv["artists"], from_csv["styles"], from_csv["with_year"]) == (4, 3, 3, 3)
    assert from_csv["top_artists"][0] == {"name": "Claude Monet", "slug": "claude-monet", "count": 2}
    assert from_csv["top_share"]["10"] == 100.0


def test_stats_cli_json_and_plot(tmp_path, capsys):
    lists = _write_lists(tmp_path)
    plot = tmp_path / "fig3.png"
    assert main(["wikiart", "stats", str(lists / "style_train.csv"), "--json", "--plot", str(plot)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["images"] == 3 and plot.stat().st_size > 1000


def test_stats_cli_missing_source(capsys):
    assert main(["wikiart", "stats", "/no/such/list.csv"]) == 2
    assert "not found" in capsys.readouterr().err


def test_real_artgan_lists_reproduce_the_paper(real_lists):
    source = f"{real_lists / 'style_train.csv'},{real_lists / 'style_val.csv'}"
    stats = collection_stats(iter_source(source))
    assert (stats["images"], stats["artists"], stats["styles"]) == (81_446, 1_119, 27)
    assert stats["top_share"] == {"10": 14.18, "20": 21.80, "30": 27.62}
    top = [(a["name"], a["count"]) for a in stats["top_artists"][:3]]
    # The paper counts 1,889 van Goghs: one listed file is corrupt in the archive (ArtGAN issue #14).
    assert top == [("Vincent van Gogh", 1890), ("Nicholas Roerich", 1860), ("Pierre Auguste Renoir", 1400)]


def test_shipped_artist_ranking_is_the_real_lists_ranking(real_lists):
    from creative_painting.wikiart.catalog import genres, ranked_artists, styles

    source = f"{real_lists / 'style_train.csv'},{real_lists / 'style_val.csv'}"
    stats = collection_stats(iter_source(source), top=10_000)
    shipped = [(a.name, a.slug, a.paintings) for a in ranked_artists()]
    assert shipped == [(a["name"], a["slug"], a["count"]) for a in stats["top_artists"]]
    assert len(shipped) == 1_119 and len(styles()) == 27 and "landscape" in genres()


def test_top_n_without_a_source_uses_the_shipped_ranking():
    from creative_painting.batch.job import _top_artists

    assert _top_artists("top:3", None) == ["Vincent van Gogh", "Nicholas Roerich", "Pierre Auguste Renoir"]
