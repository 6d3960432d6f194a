"""The studio's work, without any web code: extend a topic, queue paint jobs, paint them one by one,
browse past runs, and read a PNG's parameters back. The web page (ui.py) and the HTTP API call only this.

Everything lives in one data folder:
    jobs.sqlite      the durable queue (queue.py)
    runs/000007/     one folder per job, in the layout of `paint` and `batch` (painting/folder.py)
    cache/           the web server's temporary files
"""

from __future__ import annotations

import html
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from creative_painting.errors import UserError
from creative_painting.files import claim_resumable_dir, run_lock
from creative_painting.painting.folder import JOB, Painted, read_folder
from creative_painting.painting.spec import PaintSpec
from creative_painting.studio.queue import Job, JobQueue

logger = logging.getLogger(__name__)

TINY_NOTE = ("--model tiny: painting uses a tiny random model that paints noise. "
             "Start the studio with --model (a hub id, a diffusers folder or a .safetensors/.ckpt file) to paint.")
PROGRESS_EVERY_S = 0.25
GALLERY_IMAGES = 120  # thumbnails on the gallery page; the search finds older ones


def job_number(value: Any) -> int:
    """A job id from a form or the API: 7, 7.0 or "7"; anything else is a one-line error."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = int(value) if isinstance(value, float) and value.is_integer() else -1
    if isinstance(value, bool) or number < 1:
        raise UserError(f"a job is named by its number (1, 2, ...), got {value!r}")
    return number


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


class Cancelled(Exception):
    """Raised from the progress callback to stop a job that a user cancelled."""


class Studio:
    """One model, one worker thread, one data folder (held with a lock, so one server per folder)."""

    def __init__(self, data: str | Path, model=None, *, model_note: str | None = None):
        self.data = claim_resumable_dir(data, "studio").resolve()
        self._stack = ExitStack()
        self._stack.enter_context(run_lock(self.data))
        self.runs = self.data / "runs"
        self.runs.mkdir(exist_ok=True)
        self.cache = self.data / "cache"
        self.cache.mkdir(exist_ok=True)
        for leftover in self.runs.glob(".*.tmp"):  # staging folders of a job a kill interrupted
            shutil.rmtree(leftover, ignore_errors=True)
        self.queue = JobQueue(self.data / "jobs.sqlite")
        self.recovered = self.queue.recover()
        self.model, self.model_note = model, model_note
        self.artists = None  # the model's own painters (RankedArtist) for the page's pickers; None: WikiArt's
        self.size: int | None = None  # the size the model paints, for the page's width and height; None: the preset's
        self._extender = None
        self._extender_lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        # Interactive requests (Extend) pause the painter between two U-Net steps: a person waiting on the
        # page goes before a queue that takes minutes anyway.
        self._interactive = 0
        self._interactive_done = threading.Condition()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, warm_up: bool = True) -> None:
        """Start the worker; load the extension models in the background so the first Extend is quick."""
        self._worker = threading.Thread(target=self._work, name="studio-worker", daemon=True)
        self._worker.start()
        if warm_up:
            threading.Thread(target=self._warm_up, name="studio-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            self.extend("a painting")
        except Exception:  # a missing index or model shows up, with its message, when someone presses Extend
            logger.debug("extension warm-up failed", exc_info=True)

    def close(self) -> None:
        self._stop.set()
        self.queue.changed.set()
        if self._worker is not None:
            self._worker.join(timeout=60)
        self.queue.close()
        self._stack.close()

    # -- extension -----------------------------------------------------------------------------------
    def extender(self):
        with self._extender_lock:
            if self._extender is None:
                from creative_painting.extension.pipeline import Extender

                self._extender = Extender.from_options(top=10)  # the built-in index, MiniLM, spaCy: as `extend`
            return self._extender

    def extend(self, topic: str) -> list[dict[str, Any]]:
        """Candidates best first (the extender's top 10), each with its score, the score's parts, entities (with
        offsets) and source."""
        topic = " ".join(str(topic or "").split())
        if not topic:
            raise UserError("prompt must not be empty")
        if len(topic) > 1000:
            raise UserError("a topic is at most 1,000 characters")
        extender = self.extender()
        with self._extender_lock, self._pausing_painter():
            results = extender.extend(topic)
            # the sentence each scene rests on, with its places and dates marked, so a reader can check them
            origins = [r.candidate.origin or r.candidate.text for r in results]
            marks = extender.tagger.tag(origins)
        return [{**r.to_json(), "entities": _spans(r.entities), "origin": origin, "origin_entities": _spans(ents)}
                for r, origin, ents in zip(results, origins, marks, strict=True)]

    @contextmanager
    def _pausing_painter(self) -> Iterator[None]:
        with self._interactive_done:
            self._interactive += 1
        try:
            yield
        finally:
            with self._interactive_done:
                self._interactive -= 1
                self._interactive_done.notify_all()

    def _yield_to_interactive(self) -> None:
        with self._interactive_done:
            self._interactive_done.wait_for(lambda: self._interactive == 0, timeout=10)

    # -- jobs ------------------------------------------------------------------------------------------
    def submit(self, request: dict[str, Any]) -> int:
        """The form's or the API's request, checked as `paint` checks its flags, and its memory with the studio's
        model: once, here. On disk before the id is returned; the worker trusts it."""
        spec = PaintSpec.check(request)
        from creative_painting.painting.memory import check_memory  # imports diffusers: not before the lock

        check_memory(self.model, spec.settings(), spec.batch_size, spec.count())
        label = f"{spec.prompts[0][:60]}" + (f" (+{len(spec.prompts) - 1})" if len(spec.prompts) > 1 else "")
        label += f" · {spec.count()} image{'s' if spec.count() > 1 else ''}"
        return self.queue.submit(spec.to_json(), label)

    def cancel(self, job_id: int) -> str:
        """"cancelled" for a pending job; "stopping" for a running one (it stops at its next step); else its state."""
        state = self.queue.cancel(job_number(job_id))
        if state is None:
            raise UserError(f"no job {job_id}")
        return "stopping" if state == "running" else state

    def job(self, job_id: int) -> dict[str, Any]:
        job = self.queue.get(job_number(job_id))
        if job is None:
            raise UserError(f"no job {job_id}")
        info = job.to_json()
        run = self.run(self.run_id(job.id)) if job.state == "done" else None
        info["grid"] = str(run.grid) if run else None
        info["images"] = [str(p) for p in run.images] if run else []
        info["manifest"] = str(run.manifest) if run else None
        info["downloads"] = [str(p) for p in (run.grid, *run.images, run.manifest, run.folder / JOB)
                             if p.is_file()] if run else []  # job.json: the request (before: in paint.json)
        return info

    def jobs(self) -> list[dict[str, Any]]:
        return [job.to_json() for job in self.queue.jobs()]

    @staticmethod
    def run_id(job_id: int) -> str:
        return f"{job_id:06d}"

    def _work(self) -> None:
        while not self._stop.is_set():
            job = self.queue.claim_next()
            if job is None:
                self.queue.changed.wait(timeout=1.0)
                self.queue.changed.clear()
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        from creative_painting.painting.session import paint_spec

        last = 0.0

        def on_step(done: int, total: int) -> None:
            nonlocal last
            self._yield_to_interactive()
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_S or done == total:
                last = now
                if self.queue.progress(job.id, done, total) or self._stop.is_set():
                    raise Cancelled

        try:
            spec = PaintSpec(**job.request)  # what `submit` checked and queued: not checked again
            paint_spec(self.model, spec, self.runs / self.run_id(job.id), overwrite=True, progress=False,
                       on_step=on_step)
        except Cancelled:
            if self._stop.is_set():
                return  # server shutting down: the job stays running and is recovered at the next start
            self.queue.finish(job.id, "cancelled")
        except UserError as e:
            self.queue.finish(job.id, "failed", str(e))
        except Exception as e:  # a job that breaks must not stop the queue
            logger.exception("job %d failed", job.id)
            self.queue.finish(job.id, "failed", f"{type(e).__name__}: {e}")
        else:
            self.queue.finish(job.id, "done")

    # -- gallery ---------------------------------------------------------------------------------------
    def run(self, run_id: str) -> Painted | None:
        return read_folder(self.runs / run_id)

    def gallery(self, query: str = "") -> list[Painted]:
        """Every finished run in the data folder, newest first, filtered by words of its prompts or artists."""
        words = (query or "").lower().split()
        runs = [run for folder in self.runs.iterdir() if not folder.name.startswith(".")
                and (run := read_folder(folder)) is not None]
        found = [r for r in runs if all(w in " ".join(r.prompts + r.artists).lower() for w in words)]
        return sorted(found, key=lambda r: (r.created, r.id), reverse=True)

    def gallery_items(self, query: str = "") -> list[tuple[Path, str, str]]:
        """Each painted image of the matching runs, newest run first, as (image, caption, run id): a thumbnail
        per picture, captioned with its artist, prompt, run and date. At most GALLERY_IMAGES."""
        items = []
        for run in self.gallery(query):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created))
            for image, r in zip(run.images, run.records, strict=True):
                label = f"{r.get('artist') or 'no artist'} · {_short(r.get('prompt') or '')}"
                items.append((image, f"{label} · run {int(run.id)}, {when}", run.id))
            if len(items) >= GALLERY_IMAGES:
                break
        return items[:GALLERY_IMAGES]


def _spans(entities) -> list[dict[str, Any]]:
    return [{"text": e.text, "kind": e.kind, "start": e.start, "end": e.end} for e in entities]


def highlight_entities(text: str, entities: list[dict[str, Any]]) -> str:
    """HTML with each entity in a <mark> whose class names its kind (spatial or temporal)."""
    out, at = [], 0
    for e in sorted(entities, key=lambda e: e["start"]):
        if e["start"] < at:
            continue  # overlapping spans: keep the first
        out.append(html.escape(text[at:e["start"]]))
        out.append(f'<mark class="entity {html.escape(e["kind"])}" title="{html.escape(e["kind"])}">'
                   f'{html.escape(text[e["start"]:e["end"]])}</mark>')
        at = e["end"]
    out.append(html.escape(text[at:]))
    return "".join(out)
