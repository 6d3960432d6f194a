"""Write the ranked WikiArt artist list that ships in the package (the studio's artist picker, `top:N`).

Usage: python scripts/make_artist_list.py ../shared/data/wikiart-metadata
It reads ArtGAN's style lists (every painting once), counts paintings per artist and writes
src/creative_painting/wikiart/data/artists.tsv (rank order) and styles.txt / genres.txt.
"""

from __future__ import annotations

import sys
from pathlib import Path

from creative_painting.files import atomic_write_text
from creative_painting.wikiart.names import genre_display_name, style_display_name
from creative_painting.wikiart.sources import iter_source
from creative_painting.wikiart.stats import collection_stats

OUT = Path(__file__).resolve().parents[1] / "src" / "creative_painting" / "wikiart" / "data"


def main(lists: Path) -> None:
    source = f"{lists / 'style_train.csv'},{lists / 'style_val.csv'}"
    stats = collection_stats(iter_source(source), top=10_000)
    rows = ["name\tslug\tpaintings"] + [f"{a['name']}\t{a['slug']}\t{a['count']}" for a in stats["top_artists"]]
    atomic_write_text(OUT / "artists.tsv", "\n".join(rows) + "\n")
    styles = sorted({style_display_name(line.split()[1]) for line in (lists / "style_class.txt").read_text().splitlines()
                     if line.strip()})
    genres = [genre_display_name(line.split()[1]) for line in (lists / "genre_class.txt").read_text().splitlines()
              if line.strip()]
    atomic_write_text(OUT / "styles.txt", "\n".join(styles) + "\n")
    atomic_write_text(OUT / "genres.txt", "\n".join(genres) + "\n")
    print(f"{stats['artists']:,} artists, {stats['images']:,} paintings, {len(styles)} styles, {len(genres)} genres "
          f"-> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/wikiart-metadata"))
