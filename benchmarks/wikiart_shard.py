"""`wikiart shard` throughput with 1 and 2 worker processes, and the peak memory of `wikiart stats`.

Shards generated 1024x1024 paintings (JPEG, WikiArt-like sizes) to 512 px and prints images/s for
each worker count with the ratio against 1 worker measured in the same run. Then computes the
statistics of the real ArtGAN lists (names only) and prints their peak Python heap.

    .venv/bin/python benchmarks/wikiart_shard.py [--images 96] [--size 512] [--lists ../shared/data/wikiart-metadata]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from creative_painting.wikiart import collection_stats, iter_source
from creative_painting.wikiart.shards import ShardSettings, write_shards
from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

DEFAULT_LISTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikiart-metadata"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--lists", type=Path, default=DEFAULT_LISTS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        artists = make_artists(8)
        per_pair = -(-args.images // (len(artists) * len(SUBJECTS)))  # ceil
        files = collection_files(artists, SUBJECTS, per_pair=per_pair, size=1024)
        source = write_collection(files, Path(tmp) / "wikiart")
        mb = sum(len(b) for b in files.values()) / 1e6
        print(f"shard: {len(files)} generated 1024 px JPEGs ({mb:.0f} MB) -> {args.size} px, {os.cpu_count()} CPUs")
        baseline = None
        for workers in (int(w) for w in args.workers.split(",")):
            start = time.perf_counter()
            manifest = write_shards(str(source), Path(tmp) / f"out-{workers}", ShardSettings(size=args.size, shard_size=16),
                                    workers=workers, progress=False)
            rate = manifest["samples"] / (time.perf_counter() - start)
            baseline = baseline or rate
            print(f"  workers={workers}: {rate:7.1f} images/s   ratio vs workers=1: {rate / baseline:.2f}")

    if args.lists.is_dir():
        lists = ",".join(str(args.lists / n) for n in ("style_train.csv", "style_val.csv"))
        tracemalloc.start()
        start = time.perf_counter()
        stats = collection_stats(iter_source(lists))
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"stats on the real lists: {stats['images']:,} images, {stats['artists']:,} artists in {seconds:.2f} s, "
              f"peak Python heap {peak / 2**20:.1f} MiB")
    else:
        print(f"stats: skipped, no lists at {args.lists}")


if __name__ == "__main__":
    main()
