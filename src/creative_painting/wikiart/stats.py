"""Collection statistics from names alone (the paper's Figure 3: paintings per artist, top-k shares)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from creative_painting.wikiart.names import Artwork, artist_display_name

TOP_SHARES = (10, 20, 30)


def collection_stats(artworks: Iterable[Artwork], top: int = 30) -> dict[str, Any]:
    """Counts per artist, style and genre; duplicates of one path (train+val overlap) count once."""
    artists: Counter[str] = Counter()
    styles, genres, seen = set(), set(), set()
    with_year = 0
    for art in artworks:
        if art.path in seen:
            continue
        seen.add(art.path)
        artists[art.artist_slug] += 1
        styles.add(art.style_folder)
        if art.genre:
            genres.add(art.genre)
        with_year += art.year is not None
    total = len(seen)
    ranked = artists.most_common()
    return {
        "images": total,
        "artists": len(artists),
        "styles": len(styles),
        "genres": len(genres),
        "with_year": with_year,
        "top_artists": [{"name": artist_display_name(s), "slug": s, "count": n} for s, n in ranked[:top]],
        "top_share": {str(k): round(100 * sum(n for _, n in ranked[:k]) / total, 2) if total else 0.0
                      for k in TOP_SHARES},
    }


def plot_top_artists(stats: dict[str, Any], path: str | Path) -> Path:
    """Bar chart of the top artists' painting counts, like the paper's Figure 3."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from creative_painting.files import atomic_path

    top = stats["top_artists"]
    fig, ax = plt.subplots(figsize=(12, 5), layout="constrained")
    ax.bar(range(len(top)), [a["count"] for a in top], color="#4c72b0")
    ax.set_xticks(range(len(top)), [a["name"] for a in top], rotation=75, ha="right", fontsize=8)
    ax.set_ylabel("paintings")
    share = stats["top_share"].get(str(len(top)), None)
    ax.set_title(f"Top {len(top)} of {stats['artists']:,} artists, {stats['images']:,} paintings"
                 + (f" (top {len(top)} hold {share:.2f} %)" if share is not None else ""))
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path
