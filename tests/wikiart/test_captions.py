import random
import re

import pytest

from creative_painting.errors import UserError
from creative_painting.wikiart import iter_source, make_caption, parse_path
from creative_painting.wikiart.captions import check_template

# Twenty real ArtGAN paths (genre from genre_*.csv where listed) and the captions they must read as.
REAL_CAPTIONS = [
    ("Post_Impressionism/vincent-van-gogh_corridor-in-the-asylum-1889(1).jpg", None,
     "Corridor in the asylum, a painting by Vincent van Gogh, Post-Impressionism, 1889"),
    ("Impressionism/rudolf-schweitzer-cumpana_la-fereastr-1923.jpg", "portrait",
     "La fereastr, a portrait by Rudolf Schweitzer Cumpana, Impressionism, 1923"),
    ("Baroque/jacob-jordaens_diana-and-actaeon.jpg", None, "Diana and actaeon, a painting by Jacob Jordaens, Baroque"),
    ("Realism/robert-brackman_pastel-1.jpg", "nude painting", "Pastel, a nude painting by Robert Brackman, Realism"),
    ("Impressionism/pierre-auguste-renoir_seated-nude-with-a-bouquet-1915.jpg", "nude painting",
     "Seated nude with a bouquet, a nude painting by Pierre Auguste Renoir, Impressionism, 1915"),
    ("Impressionism/auguste-rodin_untitled(3).jpg", None, "Untitled, a painting by Auguste Rodin, Impressionism"),
    ("Cubism/gino-severini_still-life-with-the-dome-of-st-peter-s-1943.jpg", "still life",
     "Still life with the dome of st peter's, a still life by Gino Severini, Cubism, 1943"),
    ("Symbolism/william-blake_sketch-for-satan-watching-the-endearments-of-adam-and-eve.jpg", "sketch and study",
     "Sketch for satan watching the endearments of adam and eve, a study by William Blake, Symbolism"),
    ("Naive_Art_Primitivism/fred-yates_on-the-promenade.jpg", None,
     "On the promenade, a painting by Fred Yates, Naive Art (Primitivism)"),
    ("Abstract_Expressionism/jimmy-ernst_abstraction-in-green-and-black-1946.jpg", "abstract painting",
     "Abstraction in green and black, an abstract painting by Jimmy Ernst, Abstract Expressionism, 1946"),
    ("Symbolism/nicholas-roerich_by-the-brahmaputra-1926.jpg", "landscape",
     "By the brahmaputra, a landscape by Nicholas Roerich, Symbolism, 1926"),
    ("Realism/isaac-levitan_lake-como-1894-2.jpg", "landscape", "Lake como, a landscape by Isaac Levitan, Realism, 1894"),
    ("Symbolism/harry-clarke_the-year-s-at-the-spring-1920-4.jpg", "illustration",
     "The year's at the spring, an illustration by Harry Clarke, Symbolism, 1920"),
    ("Minimalism/john-mccracken_xin-1987.jpg", None, "Xin, a painting by John McCracken, Minimalism, 1987"),
    ("Pop_Art/r.-b.-kitaj_the-autumn-of-central-paris.jpg", "genre painting",
     "The autumn of central paris, a genre painting by R. B. Kitaj, Pop Art"),
    ("Naive_Art_Primitivism/tarsila-do-amaral_a-cuca-1924.jpg", None,
     "A cuca, a painting by Tarsila do Amaral, Naive Art (Primitivism), 1924"),
    ("Symbolism/edward-burne-jones_the-vision-of-saint-catherine.jpg", "religious painting",
     "The vision of saint catherine, a religious painting by Edward Burne Jones, Symbolism"),
    ("Pointillism/paul-signac_golfe-juan(1).jpg", "landscape", "Golfe juan, a landscape by Paul Signac, Pointillism"),
    ("Post_Impressionism/vincent-van-gogh_l-arlesienne-portrait-of-madame-ginoux-1890.jpg", "portrait",
     "L'arlesienne portrait of madame ginoux, a portrait by Vincent van Gogh, Post-Impressionism, 1890"),
    ("Art_Nouveau_Modern/ivan-bilibin_illustration-for-alexander-pushkin-s-fairytale-of-the-tsar-saltan-1905-2(1).jpg",
     "illustration", "Illustration for alexander pushkin's fairytale of the tsar saltan, an illustration by Ivan Bilibin, "
     "Art Nouveau (Modern), 1905"),
]


@pytest.mark.parametrize(("path", "genre", "caption"), REAL_CAPTIONS)
def test_real_names_read_naturally(path, genre, caption):
    assert make_caption(parse_path(path, genre)) == caption


@pytest.mark.slow  # 10 s over all 81,444 real captions: `make test-all` runs it
def test_no_real_caption_has_none_or_dangling_commas(real_lists):
    lists = ",".join(str(real_lists / n) for n in ("style_train.csv", "style_val.csv", "genre_train.csv"))
    captions = [make_caption(a) for a in iter_source(lists)]
    assert len(captions) > 81_000
    assert not [c for c in captions if re.search(r"None|,\s*,|,$|^[, ]|\s\s", c)]


def test_caption_dropout_rate_and_field_dropout():
    art = parse_path("Realism/isaac-levitan_lake-como-1894-2.jpg", "landscape")
    rng = random.Random(0)
    captions = [make_caption(art, rng=rng, caption_dropout=0.1) for _ in range(4000)]
    assert 0.08 < captions.count("") / len(captions) < 0.12
    dropped = [make_caption(art, rng=rng, field_dropout=0.5) for _ in range(400)]
    assert all(c and not c.startswith(",") and "None" not in c for c in dropped)
    assert "a landscape" in dropped[0] or "a painting" in dropped[0]  # the noun phrase is never dropped
    assert len(set(dropped)) > 10


def test_custom_templates_and_unknown_fields():
    art = parse_path("Realism/isaac-levitan_lake-como-1894-2.jpg")
    assert make_caption(art, "{artist}: {title}[ ({year})]") == "Isaac Levitan: Lake como (1894)"
    with pytest.raises(UserError, match="unknown field"):
        check_template("{title} by {painter}")
