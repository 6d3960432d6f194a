"""The studio's web page (Gradio): topic -> extensions -> artists -> paint -> grid, plus queue, gallery and
PNG info. Every handler calls the Studio service; a UserError becomes the same one-line message as on
the command line. The same functions are the HTTP API (`gradio_client`), listed at /?view=api."""

from __future__ import annotations

import functools
import html
from typing import Any

import gradio as gr

from creative_painting.errors import UserError
from creative_painting.painting.captions import DEFAULT_TEMPLATE, EXTENDED_TEMPLATE
from creative_painting.painting.request import PaintRequest
from creative_painting.sampling.presets import PRESETS
from creative_painting.sampling.samplers import SAMPLERS
from creative_painting.studio.service import Studio, highlight_entities, job_number, png_parameters
from creative_painting.wikiart.catalog import artist_notes, genres, ranked_artists, styles

TOP_ARTISTS = 30
CSS = """
mark.entity.spatial { background: #cde8ff; border-bottom: 2px solid #1f77b4; }
mark.entity.temporal { background: #ffe2c2; border-bottom: 2px solid #ff7f0e; }
table.candidates { width: 100%; border-collapse: collapse; font-size: 0.92em; }
table.candidates td, table.candidates th { padding: 4px 6px; border-bottom: 1px solid #ddd; vertical-align: top; }
table.candidates td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { background: #fff4d6; padding: 6px 10px; border-radius: 6px; }
"""
# The form's fields in the order the paint handler receives them.
FIELDS = ("preset", "sampler", "steps", "scale", "eta", "width", "height", "seed", "images", "negative",
          "template", "style", "genre", "year")


def _user_errors(fn):
    """A UserError is shown as Gradio's error toast (and returned to API clients), never a traceback."""
    @functools.wraps(fn)  # keeps the signature: gr.api reads the parameters from it
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            raise gr.Error(str(e), print_exception=False) from None

    return wrapped


def candidates_table(topic: str, candidates: list[dict[str, Any]]) -> str:
    if not candidates:
        return f"<p>No extension found for <b>{html.escape(topic)}</b>.</p>" if topic else ""
    rows = []
    for i, c in enumerate(candidates, 1):
        source = c["source"]["kind"] + (f": {html.escape(c['source']['title'])}" if c["source"].get("title") else "")
        rows.append(f"<tr><td class=num>{i}</td><td>{highlight_entities(c['text'], c['entities'])}</td>"
                    f"<td class=num>{c['score']:.3f}</td><td class=num>{c['tfidf']:.3f}</td>"
                    f"<td class=num>{c['cosine']:.3f}</td><td class=num>{c['paintability']:.2f}</td>"
                    f"<td class=num>{len(c['entities'])}</td><td>{source}</td></tr>")
    return ("<table class=candidates><tr><th>#</th><th>candidate (<mark class='entity spatial'>place</mark> "
            "<mark class='entity temporal'>time</mark>)</th><th>score</th><th>TF-IDF</th><th>cosine</th><th>paintable</th>"
            "<th>entities</th><th>source</th></tr>" + "".join(rows) + "</table>")


def _preset_values(name: str) -> list:
    s = PRESETS.get(name, PRESETS["paper"])
    return [s.sampler, s.steps, s.scale, s.eta, s.width, s.height]


def _request(prompts: list[str], top: list[str], more: list[str], values: dict[str, Any]) -> dict[str, Any]:
    artists = list(dict.fromkeys([*(top or []), *(more or [])]))
    return {"prompts": list(prompts or []), "artists": artists, **values}


def row_templates(topic: str, prompts: list[str]) -> str | list[str]:
    """The topic's row keeps the default template whatever else is ticked; an extension gets EXTENDED_TEMPLATE."""
    templates = [DEFAULT_TEMPLATE if p == topic.strip() else EXTENDED_TEMPLATE for p in prompts]
    return templates[0] if len(set(templates)) == 1 else templates


def _one_template(template: str | list[str] | None) -> str:
    """The form's template box: a template every row shares, else empty (rows choose theirs, as row_templates)."""
    if isinstance(template, list):
        return template[0] if len(set(template)) == 1 else ""
    return template or ""


def _topic_of(request: PaintRequest) -> str:
    """The topic box of a filled form: the row painted with the default template, so Paint keeps every row's."""
    if isinstance(request.template, list):
        return next((p for p, t in zip(request.prompts, request.template, strict=True) if t == DEFAULT_TEMPLATE), "")
    return request.prompts[0]


def _status(job: dict[str, Any]) -> str:
    head = f"**Job {job['id']}** ({html.escape(job['label'])}): "
    if job["state"] == "running" and not job["steps"]:
        return head + "starting"
    if job["state"] == "running":
        left = f", about {job['seconds_left']:.0f} s left" if job["seconds_left"] is not None else ""
        return head + f"painting, step {job['step']} of {job['steps']}{left}"
    if job["state"] == "failed":
        return head + f"failed: {html.escape(job['error'] or '')}"
    return head + job["state"]


def build_app(studio: Studio) -> gr.Blocks:
    artists = ranked_artists()
    top_choices = [(f"{a.name} · {a.paintings:,}", a.name) for a in artists[:TOP_ARTISTS]]
    all_choices = [(f"{a.name} ({a.paintings:,})", a.name) for a in artists]
    paper = PRESETS["paper"]

    with gr.Blocks(title="creative-painting studio", delete_cache=(3600, 24 * 3600)) as app:
        gr.Markdown("# creative-painting studio\nA topic, its extensions, a choice of artists, a grid to compare.")
        if studio.model_note:
            gr.Markdown(studio.model_note, elem_classes="note", elem_id="model-note")
        job_id = gr.State(None)
        with gr.Tabs() as tabs:
            with gr.Tab("Paint", id="paint"):
                with gr.Row():
                    topic = gr.Textbox(label="Topic", placeholder="urbanization of china", scale=4, elem_id="topic")
                    extend_btn = gr.Button("Extend", scale=1, elem_id="extend")
                table = gr.HTML(elem_id="candidates")
                chosen = gr.CheckboxGroup(label="Paint these prompts (the topic itself, or its extensions)",
                                          choices=[], elem_id="chosen")
                with gr.Row():
                    top = gr.CheckboxGroup(top_choices, label=f"WikiArt top {TOP_ARTISTS} (paintings)",
                                           elem_id="top-artists", scale=3)
                    with gr.Column(scale=2):
                        more = gr.Dropdown(all_choices, multiselect=True, allow_custom_value=True,
                                           label=f"Search all {len(artists):,} WikiArt artists", elem_id="more-artists")
                        style = gr.Dropdown(["", *styles()], value="", allow_custom_value=True, label="Style")
                        genre = gr.Dropdown(["", *genres()], value="", allow_custom_value=True, label="Genre")
                        year = gr.Textbox(label="Year", placeholder="1889")
                with gr.Accordion("Settings", open=False):
                    with gr.Row():
                        preset = gr.Radio(sorted(PRESETS), value="paper", label="Preset", elem_id="preset")
                        sampler = gr.Dropdown(list(SAMPLERS), value=paper.sampler, label="Sampler", elem_id="sampler")
                        steps = gr.Number(paper.steps, precision=0, label="Steps", elem_id="steps")
                        scale = gr.Number(paper.scale, label="Guidance scale", elem_id="scale")
                        eta = gr.Number(paper.eta, label="eta (DDIM)", elem_id="eta")
                    with gr.Row():
                        width = gr.Number(paper.width, precision=0, label="Width", elem_id="width")
                        height = gr.Number(paper.height, precision=0, label="Height", elem_id="height")
                        seed = gr.Number(0, precision=0, label="Seed", elem_id="seed")
                        images = gr.Number(1, precision=0, label="Images per cell", elem_id="images")
                    negative = gr.Textbox(label="Negative prompt", elem_id="negative")
                    template = gr.Textbox(label="Caption template ([...] parts drop out when empty)",
                                          placeholder=f"{DEFAULT_TEMPLATE}   (extensions: {EXTENDED_TEMPLATE})",
                                          elem_id="template")
                paint_btn = gr.Button("Paint", variant="primary", elem_id="paint")
                status = gr.Markdown(elem_id="status")
                grid = gr.Image(label="Grid", type="filepath", interactive=False, elem_id="grid")
                cells = gr.Gallery(label="Cells", columns=6, elem_id="cells")
                downloads = gr.File(label="Download", file_count="multiple", interactive=False, elem_id="downloads")
            with gr.Tab("Queue", id="queue"):
                queue_table = gr.Dataframe(headers=["job", "state", "what", "progress", "message"],
                                           interactive=False, elem_id="queue")
                with gr.Row():
                    cancel_id = gr.Number(label="Job", precision=0, elem_id="cancel-id")
                    cancel_btn = gr.Button("Cancel job", elem_id="cancel")
            with gr.Tab("Gallery", id="gallery"):
                query = gr.Textbox(label="Search prompts and artists", elem_id="gallery-search")
                runs = gr.Gallery(label="Past paintings (newest first)", columns=6, height="auto", object_fit="contain",
                                  elem_id="gallery")
                run_info = gr.Markdown(elem_id="run-info")
                selected_run = gr.State(None)
                again_btn = gr.Button("Paint again", elem_id="paint-again")
            with gr.Tab("PNG info", id="pnginfo"):
                upload = gr.File(label="Drop a PNG painted by creative-painting", file_types=[".png"],
                                 elem_id="pnginfo-upload")
                png_message = gr.Markdown(elem_id="pnginfo-message")
                png_json = gr.JSON(label="Parameters")

        form = [preset, sampler, steps, scale, eta, width, height, seed, images, negative, template, style, genre, year]

        # -- topic -> extensions ------------------------------------------------------------------
        def on_extend(text: str):
            found = studio.extend(text)
            choices = [text.strip(), *(c["text"] for c in found)] if text.strip() else []
            return candidates_table(text, found), gr.CheckboxGroup(choices=choices, value=choices[:1])

        extend_btn.click(_user_errors(on_extend), topic, [table, chosen], api_visibility="private",
                         concurrency_limit=None)
        topic.submit(_user_errors(on_extend), topic, [table, chosen], api_visibility="private", concurrency_limit=None)
        # .input: only a person's choice of preset resets the settings, not "Paint again" or PNG info filling them
        preset.input(_preset_values, preset, [sampler, steps, scale, eta, width, height], api_visibility="private")

        # -- paint ------------------------------------------------------------------------------------
        def on_paint(text, prompts, top_artists, more_artists, *values):
            request = _request(prompts, top_artists, more_artists, dict(zip(FIELDS, values, strict=True)))
            if not request["prompts"]:
                raise UserError("tick at least one prompt to paint (press Extend first)")
            if not request["template"]:  # the topic as `paint` paints it; extensions, whole sentences, as `--extend`
                request["template"] = row_templates(text, request["prompts"])
            new_id = studio.submit(request)
            for note in artist_notes(request["artists"]):  # a likely typo: painted as typed, with a hint
                gr.Warning(note)
            return new_id, _status(studio.job(new_id)), None, [], None

        paint_btn.click(_user_errors(on_paint), [topic, chosen, top, more, *form], [job_id, status, grid, cells, downloads],
                        api_visibility="private", concurrency_limit=None)

        def on_poll(current, shown):
            """Follow the page's job until it ends; after that nothing changes, so nothing is read."""
            if current is None or shown == current:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            job = studio.job(current)
            if job["state"] in ("pending", "running"):
                return _status(job), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            if job["state"] != "done":
                return _status(job), gr.skip(), gr.skip(), gr.skip(), current
            files = [job["grid"], *job["images"], job["manifest"]]
            return _status(job), job["grid"], job["images"], files, current

        shown_id = gr.State(None)
        timer = gr.Timer(0.5)
        timer.tick(on_poll, [job_id, shown_id], [status, grid, cells, downloads, shown_id], api_visibility="private",
                   concurrency_limit=None, show_progress="hidden")

        # -- queue --------------------------------------------------------------------------------------
        def on_queue_rows():
            return [[j["id"], j["state"], j["label"], f"{j['step']}/{j['steps']}" if j["steps"] else "",
                     j["error"] or ""] for j in studio.jobs()]

        gr.Timer(2.0).tick(on_queue_rows, None, queue_table, api_visibility="private", concurrency_limit=None,
                           show_progress="hidden")
        app.load(on_queue_rows, None, queue_table, api_visibility="private")

        def on_cancel(job):
            if job is None:
                raise UserError("give the number of the job to cancel")
            gr.Info(f"job {job_number(job)}: {studio.cancel(job)}")
            return on_queue_rows()

        cancel_btn.click(_user_errors(on_cancel), cancel_id, queue_table, api_visibility="private")

        # -- gallery --------------------------------------------------------------------------------------
        def on_gallery(text: str = ""):
            return [(str(image), caption) for image, caption, _ in studio.gallery_items(text)]

        query.change(on_gallery, query, runs, api_visibility="private")
        app.load(on_gallery, None, runs, api_visibility="private")
        tabs.change(on_gallery, query, runs, api_visibility="private")

        def on_select_run(text: str, evt: gr.SelectData):
            found = studio.gallery_items(text)
            if evt.index is None or evt.index >= len(found):
                return None, ""
            r = studio.run(found[evt.index][2])
            info = (f"**Run {r.id}** · prompts: {html.escape('; '.join(r.prompts))}"
                    f" · artists: {html.escape(', '.join(r.artists) or 'none')}")
            return r.id, info

        runs.select(on_select_run, query, [selected_run, run_info], api_visibility="private")

        def fill(request: dict[str, Any]):
            """Form values from a request (a past run's, or a PNG's): the settings it painted with, in full."""
            checked = PaintRequest.from_json(request)  # a damaged request is a one-line error, shown as such
            settings = checked.settings()
            ranked = {a.name for a in artists[:TOP_ARTISTS]}
            values = {"preset": checked.preset, "sampler": settings.sampler, "steps": settings.steps,
                      "scale": settings.scale, "eta": settings.eta, "width": settings.width,
                      "height": settings.height, "seed": checked.seed, "images": checked.images,
                      "negative": checked.negative, "template": _one_template(checked.template),
                      "style": checked.style or "", "genre": checked.genre or "", "year": checked.year or ""}
            return [gr.Tabs(selected="paint"), _topic_of(checked),
                    gr.CheckboxGroup(choices=checked.prompts, value=checked.prompts),
                    [n for n in checked.artists if n in ranked], [n for n in checked.artists if n not in ranked],
                    *(values[f] for f in FIELDS)]

        fill_outputs = [tabs, topic, chosen, top, more, *form]

        def on_again(run_id):
            run = studio.run(run_id) if run_id else None
            if run is None or run.request is None:
                raise UserError("pick a run in the gallery first")
            return fill(run.request)

        again_btn.click(_user_errors(on_again), selected_run, fill_outputs, api_visibility="private")

        # -- PNG info -----------------------------------------------------------------------------------
        def on_png_info(path):
            """Fill the form from the PNG, then empty the drop zone for the next one."""
            if not path:
                return [gr.skip()] * len(fill_outputs) + ["", None, None]
            try:
                info = png_parameters(path)
                filled = fill(info["request"])
            except UserError as e:
                return [gr.skip()] * len(fill_outputs) + [f"**Not read:** {html.escape(str(e))}", None, None]
            return [*filled, f"Parameters of a PNG painted by {html.escape(str(info['model']))} "
                                             "are now in the Paint form.", info, None]

        upload.upload(on_png_info, upload, [*fill_outputs, png_message, png_json, upload], api_visibility="private")

        # -- the HTTP API ---------------------------------------------------------------------------------
        _api(studio)
    return app


def _api(studio: Studio) -> None:
    """Endpoints for scripts (`gradio_client.Client(url).predict(..., api_name="/submit")`)."""

    @_user_errors
    def extend(topic: str) -> list:
        """Extensions of a topic, best first, with score parts, entities and source."""
        return studio.extend(topic)

    @_user_errors
    def submit(request: dict) -> int:
        """Queue a paint job: {"prompts": [...], "artists": [...], "preset": "paper", "steps": 50, ...}."""
        return studio.submit(request)

    @_user_errors
    def job(job_id: int) -> dict:
        """A job's state, progress and, when done, its files."""
        info = studio.job(job_id)
        done = info["state"] == "done"
        info["files"] = ["/gradio_api/file=" + p for p in ([info["grid"], *info["images"], info["manifest"]]
                                                           if done else [])]
        return info

    @_user_errors
    def jobs() -> list:
        """Every job, newest first."""
        return studio.jobs()

    @_user_errors
    def cancel(job_id: int) -> str:
        """Cancel a pending job or stop a running one."""
        return studio.cancel(job_id)

    for fn in (extend, submit, job, jobs, cancel):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=None)


def launch(studio: Studio, *, host: str, port: int, auth: tuple[str, str] | None, quiet: bool = False,
           block: bool = True):
    """Serve the page. Files are served from the data folder's runs only; uploads are capped."""
    from creative_painting.studio.service import MAX_UPLOAD_BYTES

    app = build_app(studio)
    app.queue(default_concurrency_limit=None)
    return app.launch(server_name=host, server_port=port, auth=auth, allowed_paths=[str(studio.runs)],
                      max_file_size=MAX_UPLOAD_BYTES, quiet=quiet, prevent_thread_lock=not block, css=CSS,
                      footer_links=["api"], show_error=True, ssr_mode=False)
