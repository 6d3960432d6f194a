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


@pytest.mark.parametrize(("prompts", "artists", "message"), [
    ([""], None, "prompt must not be empty"), (["   "], ["a"], "prompt must not be empty"),
    (["ok"], [" "], "an artist must not be empty"), ([], None, "give at least one prompt")])
def test_empty_inputs_are_user_errors(prompts, artists, message):
    with pytest.raises(UserError, match=message):
        build_cells(prompts, artists)


def test_each_prompt_may_have_its_own_template_and_its_cells_record_it():
    from creative_painting.painting.captions import DEFAULT_TEMPLATE, EXTENDED_TEMPLATE

    cells = build_cells(["a marathon", "Haile won in Dubai."], ["Claude Monet"],
                        template=[DEFAULT_TEMPLATE, EXTENDED_TEMPLATE])
    assert [c.caption for c in cells] == ["a painting of a marathon by Claude Monet",
                                          "Haile won in Dubai., a painting by Claude Monet"]
    assert [c.template for c in cells] == [DEFAULT_TEMPLATE, EXTENDED_TEMPLATE]
    with pytest.raises(UserError, match="one per prompt"):
        build_cells(["a", "b"], template=[DEFAULT_TEMPLATE])
