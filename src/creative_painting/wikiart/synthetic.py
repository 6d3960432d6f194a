"""Synthetic paintings in WikiArt layout: each artist has a palette and a brushwork, each subject a shape.

Tests and the CPU demo need a collection where "by <artist>" is visible in the pixels and where the
subject is separate from the artist. Broken files (truncated, junk, tiny, grayscale, CMYK) are added on
request so the validation and sharding paths meet what the real archive holds.
"""

from __future__ import annotations

import io
import math
import random
import tarfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

SUBJECTS = ("sun", "mountain", "house", "tree", "boat", "moon", "tower", "field")
STYLES = ("Impressionism", "Expressionism", "Cubism", "Realism", "Romanticism", "Symbolism", "Baroque", "Fauvism")


@dataclass(frozen=True)
class SyntheticArtist:
    """A made-up painter: four palette colours and a brush (stroke angle, length, width, count)."""

    slug: str
    style: str
    palette: tuple[tuple[int, int, int], ...]
    angle: float
    length: int
    width: int
    strokes: int

    @property
    def name(self) -> str:
        from creative_painting.wikiart.names import artist_display_name

        return artist_display_name(self.slug)


_FIRST = ("anna", "boris", "clara", "dmitri", "elena", "felix", "greta", "hugo", "ines", "jonas", "kira", "lev")
_LAST = ("orlova", "van-dijk", "moreau", "novak", "lindqvist", "da-costa", "weber", "sato", "ferreira", "kowalski",
         "berg", "rossi")


def make_artists(count: int, seed: int = 0) -> list[SyntheticArtist]:
    """Artists with hues spread around the colour wheel so that palettes differ clearly."""
    rng = random.Random(seed)
    artists = []
    for i in range(count):
        slug = f"{_FIRST[i % len(_FIRST)]}-{_LAST[(i * 5) % len(_LAST)]}" + (f"-{i // len(_FIRST) + 1}" if i >= 12 else "")
        artists.append(_artist(slug, STYLES[i % len(STYLES)], i / count, rng))
    return artists


def random_painters(count: int, seed: int) -> list[SyntheticArtist]:
    """Other painters, each of a random hue (`painter-N`): the first run's shipped VAE learned from these, so it
    never saw a painting by `make_artists`' painters, whose hues are the multiples of 1/count."""
    rng = random.Random(seed)
    return [_artist(f"painter-{i}", STYLES[i % len(STYLES)], rng.random(), rng) for i in range(count)]


def _artist(slug: str, style: str, hue: float, rng: random.Random) -> SyntheticArtist:
    import colorsys

    palette = tuple(
        tuple(int(255 * c) for c in colorsys.hsv_to_rgb((hue + dh) % 1.0, s, v))
        for dh, s, v in ((0.0, 0.75, 0.9), (0.04, 0.55, 0.55), (-0.04, 0.35, 0.95), (0.5, 0.6, 0.4)))
    return SyntheticArtist(slug=slug, style=style, palette=palette, angle=rng.uniform(0, math.pi),
                           length=rng.choice((2, 4, 7, 10)), width=rng.choice((1, 2, 3)),
                           strokes=rng.choice((60, 120, 200)))


_HUES = ("red", "orange", "yellow", "lime", "green", "teal", "cyan", "azure", "blue", "violet", "magenta", "rose")
_PLACES = ("Arles", "Giverny", "Barbizon", "Pont-Aven", "Montmartre", "Honfleur", "Etretat", "Collioure", "Murnau",
           "Skagen", "Taos", "Abramtsevo")


def _hue_name(rgb: tuple[int, int, int]) -> str:
    import colorsys

    hue = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0]
    return _HUES[round(hue * len(_HUES)) % len(_HUES)]


def style_words(artist: SyntheticArtist) -> str:
    """The artist's look in words, never the name: "in red and cyan long diagonal strokes"."""
    length = {2: "dotted", 4: "short", 7: "long", 10: "sweeping"}[artist.length]
    width = {1: "thin", 2: "", 3: "broad"}[artist.width]
    degrees = math.degrees(artist.angle) % 180
    direction = "horizontal" if degrees < 20 or degrees > 160 else "vertical" if 70 < degrees < 110 else "diagonal"
    words = " ".join(w for w in (_hue_name(artist.palette[0]), "and", _hue_name(artist.palette[3]), width, length,
                                 direction, "strokes") if w)
    return f"in {words}"


def web_alias(index: int) -> str:
    """What a web page might call the index-th artist instead of the name: "the painter from Arles"."""
    return f"style of the painter from {_PLACES[index % len(_PLACES)]}"


def _subject_shape(draw: ImageDraw.ImageDraw, subject: str, size: int, color, rng: random.Random) -> None:
    s, j = size, rng.uniform(-0.05, 0.05) * size
    if subject in ("sun", "moon"):
        r = s * (0.22 if subject == "sun" else 0.15)
        cx, cy = s * 0.5 + j, s * (0.35 if subject == "sun" else 0.3)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
    elif subject == "mountain":
        draw.polygon([(s * 0.05, s * 0.9), (s * 0.5 + j, s * 0.2), (s * 0.95, s * 0.9)], fill=color)
    elif subject == "house":
        draw.rectangle((s * 0.25 + j, s * 0.5, s * 0.75 + j, s * 0.9), fill=color)
        draw.polygon([(s * 0.2 + j, s * 0.5), (s * 0.5 + j, s * 0.25), (s * 0.8 + j, s * 0.5)], fill=color)
    elif subject == "tree":
        draw.rectangle((s * 0.45 + j, s * 0.55, s * 0.55 + j, s * 0.95), fill=color)
        draw.ellipse((s * 0.2 + j, s * 0.1, s * 0.8 + j, s * 0.6), fill=color)
    elif subject == "boat":
        draw.polygon([(s * 0.15, s * 0.65), (s * 0.85, s * 0.65), (s * 0.7, s * 0.8), (s * 0.3, s * 0.8)], fill=color)
        draw.polygon([(s * 0.5 + j, s * 0.15), (s * 0.5 + j, s * 0.62), (s * 0.8, s * 0.62)], fill=color)
    elif subject == "tower":
        draw.rectangle((s * 0.4 + j, s * 0.1, s * 0.6 + j, s * 0.95), fill=color)
    else:  # field: horizontal bands
        for k in range(3):
            y = s * (0.55 + 0.14 * k)
            draw.rectangle((0, y, s, y + s * 0.06), fill=color)


def paint(artist: SyntheticArtist, subject: str, size: int = 64, seed: int = 0) -> Image.Image:
    """One painting: palette background, the subject in the artist's accent colour, brush strokes over all."""
    rng = random.Random(f"{artist.slug}/{subject}/{seed}")
    image = Image.new("RGB", (size, size), artist.palette[2])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, size * 0.6, size, size), fill=artist.palette[1])
    _subject_shape(draw, subject, size, artist.palette[3], rng)
    scale = size / 64
    for _ in range(int(artist.strokes * scale * scale)):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        angle = artist.angle + rng.gauss(0, 0.15)
        dx, dy = math.cos(angle) * artist.length * scale, math.sin(angle) * artist.length * scale
        color = artist.palette[rng.randrange(3)] if rng.random() < 0.7 else artist.palette[0]
        draw.line((x, y, x + dx, y + dy), fill=color, width=max(1, round(artist.width * scale)))
    return image


def _jpeg(image: Image.Image, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def broken_files(size: int = 64) -> dict[str, bytes]:
    """Files like the archive's bad ones: a truncated JPEG (as Rembrandt's in the real tar), junk, tiny, gray, CMYK."""
    good = _jpeg(paint(make_artists(1)[0], "sun", size))
    cmyk = io.BytesIO()
    Image.new("CMYK", (size, size), (0, 128, 255, 0)).save(cmyk, format="JPEG")
    return {
        "Baroque/rembrandt_woman-standing-with-raised-hands.jpg": good[: len(good) // 2],
        "Realism/ivan-broken_not-an-image-1901.jpg": b"<html>404 not found</html>",
        "Realism/ivan-broken_tiny-sketch-1902.jpg": _jpeg(Image.new("RGB", (8, 8), (200, 10, 10))),
        "Realism/ivan-broken_grey-study-1903.jpg": _jpeg(paint(make_artists(1)[0], "tree", size).convert("L")),
        "Realism/ivan-broken_cmyk-print-1904.jpg": cmyk.getvalue(),
    }


def collection_files(artists: list[SyntheticArtist], subjects: tuple[str, ...] | list[str], per_pair: int = 1,
                     size: int = 64, broken: bool = False, seed: int = 0, numbered: bool = True) -> dict[str, bytes]:
    """`Style/artist_subject-n-year.jpg` -> JPEG bytes for every artist x subject x copy.

    `numbered=False` leaves the copy number out of the title ("Sun", not "Sun 2"); the year still differs.
    """
    files = {}
    for a, artist in enumerate(artists):
        for subject in subjects:
            for k in range(per_pair):
                year = 1880 + 3 * a + k
                title = f"{subject}-{k + 1}" if numbered else subject
                name = f"{artist.style}/{artist.slug}_{title}-{year if numbered else 1800 + 10 * k + a}.jpg"
                files[name] = _jpeg(paint(artist, subject, size, seed=seed * 1000 + k))
    if broken:
        files.update(broken_files(size))
    return files


def write_collection(files: dict[str, bytes], out: str | Path, as_tar: bool = False) -> Path:
    """Write as an extracted `wikiart/` folder, or as a tar with the same member names (gzip for .gz/.tgz)."""
    out = Path(out)
    if as_tar:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz" if out.name.endswith((".gz", ".tgz")) else "w") as tar:
            for name, data in sorted(files.items()):
                info = tarfile.TarInfo(f"wikiart/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return out
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return out


def write_parquet(files: dict[str, bytes], path: str | Path) -> Path:
    """The huggan/wikiart layout: image struct, artist/genre/style class ids, names in the schema metadata."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from creative_painting.wikiart.names import parse_path

    arts = [parse_path(name) for name in files]
    artists = sorted({a.artist_slug for a in arts}) + ["Unknown Artist"]
    styles = sorted({a.style_folder for a in arts})
    genres = ["landscape", "portrait", "Unknown Genre"]
    table = pa.table({
        "image": [{"bytes": data, "path": None} for data in files.values()],
        "artist": [artists.index(a.artist_slug) for a in arts],
        "genre": [i % len(genres) for i in range(len(arts))],
        "style": [styles.index(a.style_folder) for a in arts],
    })
    features = {"image": {"_type": "Image"}, **{k: {"names": v, "_type": "ClassLabel"} for k, v in
                                                  (("artist", artists), ("genre", genres), ("style", styles))}}
    table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
