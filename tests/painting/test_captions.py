import pytest

from creative_painting.errors import UserError
from creative_painting.painting import build_cells
from creative_painting.templates import render


def test_grid_of_prompts_by_artists():
    cells = build_cells(["urbanization of china", "a rocket launch"], ["Vincent van Gogh", "Claude Monet"])
    assert [(c.row, c.col) for c in cells] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert cells[1].caption == "a painting of urbanization of china by Claude Monet"


def test_prompt_that_already_says_a_painting_of_is_not_doubled():
    (cell,) = build_cells(["A painting of urbanization of China"], ["Vincent van Gogh"])
    assert cell.caption == "a painting of urbanization of China by Vincent van Gogh"


def test_optional_fields_join_cleanly():
    (cell,) = build_cells(["a harbour"], ["Claude Monet"], style="Impressionism", year=1872)
    assert cell.caption == "a painting of a harbour by Claude Monet, Impressionism, 1872"
    (plain,) = build_cells(["a harbour"])
    assert plain.caption == "a painting of a harbour" and plain.artist is None


@pytest.mark.parametrize(("template", "fields", "expected"), [
    ("{title}[, a {genre}] by {artist}[, {year}]", {"title": "Irises", "artist": "Vincent van Gogh"},
     "Irises by Vincent van Gogh"),
    ("{title}[, a {genre}] by {artist}[, {year}]", {"title": "Irises", "genre": "flower painting",
     "artist": "Vincent van Gogh", "year": 1889}, "Irises, a flower painting by Vincent van Gogh, 1889"),
    ("[{style} ]{title}", {"title": "x", "style": "  "}, "x"),
])
def test_render_drops_parts_with_missing_fields(template, fields, expected):
    assert render(template, fields) == expected


def test_required_field_missing_is_a_user_error():
    with pytest.raises(UserError, match="needs artist"):
        render("{prompt} by {artist}", {"prompt": "x"})


@pytest.mark.parametrize(("prompts", "artists"), [([""], None), (["   "], ["a"]), (["ok"], [" "]), ([], None)])
def test_empty_inputs_are_user_errors(prompts, artists):
    with pytest.raises(UserError, match="must not be empty"):
        build_cells(prompts, artists)
