"""Validation report of a whole source, checked in parallel worker processes."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from typing import Any

from tqdm import tqdm

from creative_painting.wikiart.validate import PROBLEMS, check_image

CHUNK = 64  # images per worker task: amortises the inter-process transfer


def _check_chunk(args: tuple[list[tuple[str, bytes]], int]) -> list[tuple[str, str, str] | None]:
    items, min_size = args
    out = []
    for path, data in items:
        checked = check_image(data, min_size)
        out.append((path, checked.problem, checked.detail) if checked.problem else None)
    return out


def validate_source(source: str, min_size: int = 64, workers: int = 2, progress: bool = True) -> dict[str, Any]:
    """`{"images": n, "counts": {kind: n}, "problems": [{"path", "problem", "detail"}]}`; never raises on a bad image."""
    from creative_painting.parallel import ordered_map
    from creative_painting.wikiart.sources import iter_images

    entries = iter_images(source)

    def chunks():
        while chunk := list(islice(entries, CHUNK)):
            yield [(e.artwork.path, e.read()) for e in chunk], min_size

    images, problems = 0, []
    with tqdm(unit="img", desc="validate", disable=not progress) as bar:
        for results in ordered_map(_check_chunk, chunks(), workers):
            images += len(results)
            problems += [{"path": p, "problem": k, "detail": d} for r in results if r for p, k, d in [r]]
            bar.update(len(results))
    counts = Counter(p["problem"] for p in problems)
    return {"images": images, "counts": {k: counts.get(k, 0) for k in PROBLEMS}, "problems": problems}
