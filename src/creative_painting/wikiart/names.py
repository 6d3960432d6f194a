"""WikiArt file names to metadata: `<Style>/<artist-slug>_<title-slug>[-<year>][(n)|-n].jpg`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

# Lower-case name particles ("Vincent van Gogh", "Leonardo da Vinci"); the first word is always capitalised.
PARTICLES = {"van", "de", "da", "von", "der", "den", "di", "du", "la", "le", "del", "della", "des", "y", "ten", "ter", "zu", "do", "dos", "das"}
STYLE_NAMES = {
    "Post_Impressionism": "Post-Impressionism",
    "Naive_Art_Primitivism": "Naive Art (Primitivism)",
    "Mannerism_Late_Renaissance": "Mannerism (Late Renaissance)",
    "Art_Nouveau_Modern": "Art Nouveau (Modern)",
    "Art_Nouveau": "Art Nouveau (Modern)",  # ArtGAN's class list names the Art_Nouveau_Modern folder so
    "Ukiyo_e": "Ukiyo-e",
}
YEAR_RANGE = (1250, 2025)  # a -NNNN suffix outside it (1148, 5533 occur) is part of the title
_SUFFIX = re.compile(r"(\(\d+\)|-\d)$")  # duplicates: "...-1890(1)", "...-1912-2"
_YEAR = re.compile(r"-(\d{4})$")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1 and then lower-cased, as in 709 ArtGAN paths ("grã©goire" -> "grégoire")."""
    if not any("\x80" <= ch <= "\xff" for ch in text):
        return text
    for candidate in (text, _uppercase_lead_bytes(text)):
        try:
            return candidate.encode("latin-1").decode("utf-8").lower()
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def _uppercase_lead_bytes(text: str) -> str:
    # Lower-casing turned UTF-8 lead bytes 0xC0-0xDE (À-Þ) into 0xE0-0xFE (à-þ); turn them back.
    return "".join(chr(ord(ch) - 0x20) if "\xe0" <= ch <= "\xfe" and ch != "\xf7" else ch for ch in text)


def artist_display_name(slug: str) -> str:
    """`vincent-van-gogh` -> `Vincent van Gogh`, `pierre-auguste-renoir` -> `Pierre Auguste Renoir`."""
    words = [w for w in repair_mojibake(slug).split("-") if w]
    return " ".join(w if i and w in PARTICLES else _capitalise(w) for i, w in enumerate(words))


def _capitalise(word: str) -> str:
    if word.startswith("mc") and len(word) > 3:  # "mccracken" -> "McCracken"
        return "Mc" + word[2].upper() + word[3:]
    return word[:1].upper() + word[1:]


def style_display_name(folder: str) -> str:
    return STYLE_NAMES.get(folder, folder.replace("_", " "))


def genre_display_name(label: str) -> str:
    return label.replace("_", " ")


@dataclass(frozen=True)
class Artwork:
    """One painting as its file name describes it; the slugs stay for identity."""

    path: str
    style_folder: str
    artist_slug: str
    title: str
    year: int | None
    genre: str | None = None

    @property
    def artist(self) -> str:
        return artist_display_name(self.artist_slug)

    @property
    def style(self) -> str:
        return style_display_name(self.style_folder)


_CONTRACTION = re.compile(r"(?<=\w) (s|t|ll|re|ve)\b")  # "st peter s" -> "st peter's", "don t" -> "don't"
_ELISION = re.compile(r"\b([ld]) (?=[aeiouh])")  # French "l arlesienne" -> "l'arlesienne"


def _restore_apostrophes(title: str) -> str:
    """Slugs turned apostrophes into hyphens; put back the unambiguous ones."""
    return _ELISION.sub(r"\1'", _CONTRACTION.sub(r"'\1", title))


def parse_path(path: str, genre: str | None = None) -> Artwork:
    """Parse `Style/artist-slug_title-slug-1889(1).jpg`; raises ValueError on names of another shape."""
    pure = PurePosixPath(path)
    if len(pure.parts) < 2 or "_" not in pure.stem:
        raise ValueError(f"not a WikiArt path (Style/artist_title.jpg): {path!r}")
    artist_slug, title_slug = repair_mojibake(pure.stem).split("_", 1)
    title_slug = _SUFFIX.sub("", _SUFFIX.sub("", title_slug))  # "-1905-2(1)": both marks
    year = None
    if (m := _YEAR.search(title_slug)) and YEAR_RANGE[0] <= int(m[1]) <= YEAR_RANGE[1]:
        year = int(m[1])
        title_slug = title_slug[: m.start()]
    title = _restore_apostrophes(" ".join(title_slug.replace("-", " ").split()))
    title = title[:1].upper() + title[1:]
    return Artwork(path=path, style_folder=pure.parts[-2], artist_slug=artist_slug, title=title, year=year, genre=genre)
