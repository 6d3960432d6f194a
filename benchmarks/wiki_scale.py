"""What `wiki index` costs as the dump grows (issue 42): synthetic multistream dumps with Wikipedia's shape
(`wiki_dump.py`) at fractions of the full English one, each indexed by the real command (`wiki index --workers N`,
its own process), measured for time, peak memory of the process tree (sampled every 0.2 s), index size, and
query latency of `WikiIndex.search` (top 20) over fixed queries drawn from the dump's own vocabulary.

Each size's result is kept in OUT/results.json, so a rerun measures only the sizes still missing. The last lines
fit time = a + b * articles over the sizes measured and project the full dump (6.9 million articles) from it:
a projection, not a measurement. With each size's CPU (main thread, tantivy's threads, the parsing workers), they
print a lower bound for `--cores` cores: the Python threads share one lock and cannot be split, the rest at best
can (Linux: threads are told apart by their names in /proc).

    .venv/bin/python benchmarks/wiki_scale.py OUT [--fractions 400 200 40] [--workers 2] [--queries 300] [--shards N]
        [--cores 8]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wiki_dump import FULL_SIZE, Writer, write_dump  # noqa: E402

CLI = [sys.executable, "-m", "creative_painting.cli.main"]


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a worker that just ended
            total += p.memory_info().rss
    return total


def thread_name(pid: int, tid: int) -> str:
    """Linux names a thread in /proc: Python's threads are "python" (the process's name), tantivy's its own."""
    try:
        return Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
    except OSError:
        return "?"


def cpu_seconds(process: psutil.Process, threads: dict, children: dict) -> None:
    """Each thread's (by name and id) and each child process's CPU seconds so far, kept at their largest, so that
    one which ends is still counted (less its last 0.2 s)."""
    with contextlib.suppress(psutil.Error):
        for thread in process.threads():
            key = (thread_name(process.pid, thread.id), thread.id)
            threads[key] = max(threads.get(key, 0.0), thread.user_time + thread.system_time)
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                children[child.pid] = max(children.get(child.pid, 0.0), sum(child.cpu_times()[:2]))


def index(dump: Path, out: Path, workers: int, shards: int) -> dict:
    """Wall time, peak memory and CPU of `wiki index`: its Python threads (the main one hands sentences to tantivy;
    the process pool's reads the workers' results; they share Python's lock), its other threads (tantivy's indexing
    and merges), its worker processes (parsing)."""
    shutil.rmtree(out, ignore_errors=True)
    start, peak, threads, children = time.perf_counter(), 0, {}, {}
    proc = subprocess.Popen([*CLI, "wiki", "index", str(dump), str(out), "--workers", str(workers), "--no-progress",
                             "--shards", str(shards)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        peak = max(peak, tree_rss(watched))
        cpu_seconds(watched, threads, children)
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"wiki index failed: {proc.stderr.read()}")
    state = json.loads((out / "progress.json").read_text())
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    python = sum(cpu for (name, _), cpu in threads.items() if name.startswith("python"))
    return {"seconds": round(seconds, 1), "peak_mb": round(peak / 2**20), "index_mb": round(size / 2**20, 1),
            "articles": state["articles"], "sentences": state["sentences"], "cpu_python_s": round(python, 1),
            "cpu_tantivy_s": round(sum(threads.values()) - python, 1),
            "cpu_workers_s": round(sum(children.values()), 1)}


def latency(out: Path, queries: int, seed: int = 1) -> dict:
    from creative_painting.extension import WikiIndex

    rng, words = random.Random(seed), Writer(random.Random(0))
    texts = [" ".join(rng.choices(words.words, cum_weights=words.cum, k=rng.randint(2, 6))) for _ in range(queries)]
    wiki = WikiIndex(out)
    for text in texts[:20]:
        wiki.search(text, 20)  # warm: the OS cache and the searcher
    times = []
    for text in texts:
        start = time.perf_counter()
        wiki.search(text, 20)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(times[int(0.99 * (len(times) - 1))], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--fractions", type=int, nargs="+", default=[400, 200, 40], help="1/N of the full dump")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cores", type=int, default=8, help="cores of the machine the CPU bound is projected to")
    parser.add_argument("--shards", type=int, default=1, help="wiki index --shards (default 1: one index, the key without a suffix)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    suffix = f"workers={args.workers}" + (f" shards={args.shards}" if args.shards > 1 else "")
    for n in args.fractions:
        key = f"1/{n} {suffix}"
        if key in results:
            continue
        folder = args.out / f"dump-{n}"  # the same seed, the same dump: one written whole is kept for the next run
        if not folder.is_dir():
            shutil.rmtree(folder.with_suffix(".part"), ignore_errors=True)
            write_dump(folder.with_suffix(".part"), FULL_SIZE // n, progress=False)
            folder.with_suffix(".part").rename(folder)
        dump = folder / "synwiki-multistream.xml.bz2"
        built = args.out / (f"index-{n}" + (f"-s{args.shards}" if args.shards > 1 else ""))
        row = {"fraction": n, "dump_mb": round(dump.stat().st_size / 2**20, 1),
               **index(dump, built, args.workers, args.shards)}
        row |= latency(built, args.queries)
        results[key] = row
        results_file.write_text(json.dumps(results, indent=1))
        print(key, row, flush=True)
    rows = sorted((r for k, r in results.items() if k.endswith(suffix)), key=lambda r: r["articles"])
    print(f"{'size':>7} {'articles':>9} {'sentences':>11} {'dump MB':>8} {'s':>7} {'art/s':>6} {'peak MB':>8} "
          f"{'index MB':>9} {'p50 ms':>7} {'p99 ms':>7}")
    for r in rows:
        print(f"1/{r['fraction']:<5} {r['articles']:>9,} {r['sentences']:>11,} {r['dump_mb']:>8} {r['seconds']:>7} "
              f"{r['articles'] / r['seconds']:>6.0f} {r['peak_mb']:>8} {r['index_mb']:>9} {r['p50_ms']:>7} {r['p99_ms']:>7}")
    if len(rows) >= 2:
        xs, ys = [r["articles"] for r in rows], [r["seconds"] for r in rows]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
        a = my - b * mx
        worst = max(abs(y - (a + b * x)) / y for x, y in zip(xs, ys, strict=True))
        print(f"fit: seconds = {a:.1f} + {b * 1000:.3f} ms x articles (largest residual {worst:.0%}); projected for "
              f"{FULL_SIZE:,} articles with {args.workers} workers: {(a + b * FULL_SIZE) / 3600:.1f} h (a projection)")
    for r in rows:
        if "cpu_python_s" not in r:  # measured before the CPU was
            continue
        total = r["cpu_python_s"] + r["cpu_tantivy_s"] + r["cpu_workers_s"]
        floor = max(r["cpu_python_s"], total / args.cores) * FULL_SIZE / r["articles"]
        print(f"1/{r['fraction']} CPU: Python threads {r['cpu_python_s']} s, tantivy threads {r['cpu_tantivy_s']} s, "
              f"parsing workers {r['cpu_workers_s']} s ({total / r['seconds']:.2f} cores busy on average); on "
              f"{args.cores} cores the full dump needs at least max(Python threads, all CPU / {args.cores}), scaled: "
              f"{floor / 3600:.2f} h (a lower bound from this size's CPU, not a measurement)")


if __name__ == "__main__":
    main()
