"""The studio's web page (Gradio): topic -> extensions -> artists -> paint -> grid, plus queue, gallery and
PNG info. Every handler calls the Studio service; a UserError becomes the same one-line message as on
the command line. The same functions are the HTTP API (`gradio_client`), listed at /?view=api."""

from __future__ import annotations

import dataclasses
import functools
import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from creative_painting.errors import UserError
from creative_painting.painting.captions import DEFAULT_TEMPLATE, EXTENDED_TEMPLATE
from creative_painting.painting.images import png_parameters
from creative_painting.painting.spec import DEFAULTS, TABLE, PaintSpec
from creative_painting.sampling.presets import OVERRIDES, PRESETS
from creative_painting.sampling.samplers import SAMPLERS
from creative_painting.studio.service import Studio, highlight_entities, job_number
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
# The form's fields, from the spec's table, in the order the paint handler receives them; a preset sets OVERRIDES.
FIELDS = tuple(f.name for f in TABLE if f.metadata.get("form", True))


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
        return (f"<p>No extension found for <b>{html.escape(topic)}</b>: the built-in index (Wikipedia's vital-article "
                "summaries) holds nothing about it.</p>") if topic else ""
    rows = []
    for i, c in enumerate(candidates, 1):
        source = c["source"]["kind"] + (f": {html.escape(c['source']['title'])}" if c["source"].get("title") else "")
        origin = ""
        if c.get("origin") and c["origin"] != c["text"]:  # what a composed scene rests on, its places and dates marked
            origin = f"<br><small class=origin>from: {highlight_entities(c['origin'], c['origin_entities'])}</small>"
        rows.append(f"<tr><td class=num>{i}</td><td>{highlight_entities(c['text'], c['entities'])}{origin}</td>"
                    f"<td class=num>{c['score']:.3f}</td><td class=num>{c['tfidf']:.3f}</td>"
                    f"<td class=num>{c['cosine']:.3f}</td><td class=num>{c['paintability']:.2f}</td>"
                    f"<td class=num>{len(c['entities'])}</td>"
                    f"<td class=num>{'' if c.get('scene_chance') is None else format(c['scene_chance'], '.2f')}</td>"
                    f"<td>{source}</td></tr>")
    return ("<table class=candidates><tr><th>#</th><th>candidate (<mark class='entity spatial'>place</mark> "
            "<mark class='entity temporal'>time</mark>)</th><th>score</th><th>TF-IDF</th><th>cosine</th><th>paintable</th>"
            "<th>entities</th><th title='how likely a retrieved sentence is a scene of the topic; they come in this "
            "order, after the composed scenes'>scene chance</th><th>source</th></tr>" + "".join(rows) + "</table>"
            "<p><small>Composed scenes first, by score; then the retrieved sentences, by scene chance; last, the topic "
            "in another setting.</small></p>")


def _preset_values(name: str) -> list:
    s = PRESETS.get(name, PRESETS["paper"])
    return [getattr(s, field) for field in OVERRIDES]


def row_templates(topic: str, prompts: list[str]) -> str | list[str]:
    """The topic's row keeps the default template whatever else is ticked; an extension gets EXTENDED_TEMPLATE."""
    templates = [DEFAULT_TEMPLATE if p == topic.strip() else EXTENDED_TEMPLATE for p in prompts]
    return templates[0] if len(set(templates)) == 1 else templates


def _one_template(template: str | tuple[str, ...] | None) -> str:
    """The form's template box: a template every row shares, else empty (rows choose theirs, as row_templates)."""
    if isinstance(template, tuple):
        return template[0] if len(set(template)) == 1 else ""
    return template or ""


def _topic_of(request: PaintSpec) -> str:
    """The topic box of a filled form: the row painted with the default template, so Paint keeps every row's."""
    if isinstance(request.template, tuple):
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


@dataclass
class PaintTab:
    """The Paint tab's components that handlers read or fill; `form` holds the settings by FIELDS name."""

    topic: Any
    extend: Any
    table: Any
    chosen: Any
    top: Any
    more: Any
    form: dict[str, Any]
    paint: Any
    status: Any
    grid: Any
    cells: Any
    downloads: Any

    def fields(self) -> list:
        return [self.form[name] for name in FIELDS]


def build_app(studio: Studio) -> gr.Blocks:
    """The page: one builder per tab, each wiring its handlers to the service (Paint's, once it is built, apart)."""
    artists = studio.artists or ranked_artists()  # a model with its own painters (`--model demo`) offers those
    with gr.Blocks(title="creative-painting studio", delete_cache=(3600, 24 * 3600)) as app:
        gr.Markdown("# creative-painting studio\nA topic, its extensions, a choice of artists, a grid to compare.")
        if studio.model_note:
            gr.Markdown(studio.model_note, elem_classes="note", elem_id="model-note")
        with gr.Tabs() as tabs:
            with gr.Tab("Paint", id="paint"):
                paint = _paint_tab(artists, own=bool(studio.artists), size=studio.size)
            fill_outputs = [tabs, paint.topic, paint.chosen, paint.top, paint.more, *paint.fields()]
            ranked = {a.name for a in artists[:TOP_ARTISTS]}
            with gr.Tab("Queue", id="queue"):
                _queue_tab(app, studio)
            with gr.Tab("Gallery", id="gallery"):
                _gallery_tab(app, studio, tabs, fill_outputs, ranked)
            with gr.Tab("PNG info", id="pnginfo"):
                _png_info_tab(fill_outputs, ranked)
        _wire_paint(studio, paint)
        _api(studio)
    return app


def _paint_tab(artists, *, own: bool = False, size: int | None = None) -> PaintTab:
    """Topic and its extensions, the artists (WikiArt's, or the model's `own` painters), the settings (the paper's
    preset, at the model's `size` where it has one), the grid of the page's job."""
    top_choices = [(f"{a.name} · {a.paintings:,}", a.name) for a in artists[:TOP_ARTISTS]]
    all_choices = [(f"{a.name} ({a.paintings:,})", a.name) for a in artists]
    paper = PRESETS["paper"]
    with gr.Row():
        topic = gr.Textbox(label="Topic", placeholder="urbanization of china", scale=4, elem_id="topic")
        extend_btn = gr.Button("Extend", scale=1, elem_id="extend")
    table = gr.HTML(elem_id="candidates")
    chosen = gr.CheckboxGroup(label="Paint these prompts (the topic itself, or its extensions)", choices=[],
                              elem_id="chosen")
    form: dict[str, Any] = {}
    with gr.Row():
        top = gr.CheckboxGroup(top_choices, label="The model's painters (paintings in training)" if own
                               else f"WikiArt top {TOP_ARTISTS} (paintings)", elem_id="top-artists",
                               scale=3)
        with gr.Column(scale=2):
            more = gr.Dropdown(all_choices, multiselect=True, allow_custom_value=True,
                               label=f"Search all {len(artists):,} of the model's painters" if own
                               else f"Search all {len(artists):,} WikiArt artists", elem_id="more-artists")
            form["style"] = gr.Dropdown(["", *styles()], value="", allow_custom_value=True, label="Style")
            form["genre"] = gr.Dropdown(["", *genres()], value="", allow_custom_value=True, label="Genre")
            form["year"] = gr.Textbox(label="Year", placeholder="1889")
    with gr.Accordion("Settings", open=False):
        with gr.Row():
            form["preset"] = gr.Radio(sorted(PRESETS), value=DEFAULTS["preset"], label="Preset", elem_id="preset")
            form["sampler"] = gr.Dropdown(list(SAMPLERS), value=paper.sampler, label="Sampler", elem_id="sampler")
            form["steps"] = gr.Number(paper.steps, precision=0, label="Steps", elem_id="steps")
            form["scale"] = gr.Number(paper.scale, label="Guidance scale", elem_id="scale")
            form["eta"] = gr.Number(paper.eta, label="eta (DDIM)", elem_id="eta")
        with gr.Row():
            form["width"] = gr.Number(size or paper.width, precision=0, label="Width", elem_id="width")
            form["height"] = gr.Number(size or paper.height, precision=0, label="Height", elem_id="height")
            form["seed"] = gr.Number(DEFAULTS["seed"], precision=0, label="Seed", elem_id="seed")
            form["images"] = gr.Number(DEFAULTS["images"], precision=0, label="Images per cell", elem_id="images")
        form["negative"] = gr.Textbox(label="Negative prompt", elem_id="negative")
        form["template"] = gr.Textbox(label="Caption template ([...] parts drop out when empty)",
                                      placeholder=f"{DEFAULT_TEMPLATE}   (extensions: {EXTENDED_TEMPLATE})",
                                      elem_id="template")
        with gr.Row():  # files on the studio's machine, as A1111's <lora:NAME:WEIGHT> and embedding words
            form["loras"] = gr.Textbox(label="LoRA files, one a line: FILE[:WEIGHT]", lines=2, elem_id="loras",
                                       placeholder="/models/lora/van-gogh.safetensors:0.8")
            form["embeddings"] = gr.Textbox(label="Embeddings, one a line: FILE[:TOKEN] (the token goes in a prompt)",
                                            lines=2, elem_id="embeddings", placeholder="/models/embeddings/inkwash.pt")
    paint_btn = gr.Button("Paint", variant="primary", elem_id="paint")
    status = gr.Markdown(elem_id="status")
    grid = gr.Image(label="Grid", type="filepath", interactive=False, elem_id="grid")
    cells = gr.Gallery(label="Cells", columns=6, elem_id="cells")
    downloads = gr.File(label="Download", file_count="multiple", interactive=False, elem_id="downloads")
    return PaintTab(topic, extend_btn, table, chosen, top, more, form, paint_btn, status, grid, cells, downloads)


def _wire_paint(studio: Studio, tab: PaintTab) -> None:
    """Topic -> extensions; a preset fills the settings; Paint queues the job; a timer follows it to its grid."""
    def on_extend(text: str):
        found = studio.extend(text)
        choices = [text.strip(), *(c["text"] for c in found)] if text.strip() else []
        return candidates_table(text, found), gr.CheckboxGroup(choices=choices, value=choices[:1])

    for event in (tab.extend.click, tab.topic.submit):
        event(_user_errors(on_extend), tab.topic, [tab.table, tab.chosen], api_visibility="private",
              concurrency_limit=None)
    # .input: only a person's choice of preset resets the settings, not "Paint again" or PNG info filling them
    tab.form["preset"].input(_preset_values, tab.form["preset"], [tab.form[f] for f in OVERRIDES],
                             api_visibility="private")
    job_id, shown_id = gr.State(None), gr.State(None)

    def on_paint(text, prompts, top_artists, more_artists, *values):
        artists = list(dict.fromkeys([*(top_artists or []), *(more_artists or [])]))
        request = {"prompts": list(prompts or []), "artists": artists, **dict(zip(FIELDS, values, strict=True))}
        if not request["prompts"]:
            raise UserError("tick at least one prompt to paint (press Extend first)")
        if not request["template"]:  # the topic as `paint` paints it; extensions, whole sentences, as `--extend`
            request["template"] = row_templates(text, request["prompts"])
        new_id = studio.submit(request)
        for note in artist_notes(request["artists"]):  # a likely typo: painted as typed, with a hint
            gr.Warning(note)
        return new_id, _status(studio.job(new_id)), None, [], None

    tab.paint.click(_user_errors(on_paint), [tab.topic, tab.chosen, tab.top, tab.more, *tab.fields()],
                    [job_id, tab.status, tab.grid, tab.cells, tab.downloads], api_visibility="private",
                    concurrency_limit=None)

    def on_poll(current, shown):
        """Follow the page's job until it ends; after that nothing changes, so nothing is read."""
        if current is None or shown == current:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        job = studio.job(current)
        if job["state"] in ("pending", "running"):
            return _status(job), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if job["state"] != "done":
            return _status(job), gr.skip(), gr.skip(), gr.skip(), current
        return _status(job), job["grid"], job["images"], job["downloads"], current

    gr.Timer(0.5).tick(on_poll, [job_id, shown_id], [tab.status, tab.grid, tab.cells, tab.downloads, shown_id],
                       api_visibility="private", concurrency_limit=None, show_progress="hidden")


def _queue_tab(app: gr.Blocks, studio: Studio) -> None:
    """Every job with its progress, refreshed every 2 s, and a cancel button."""
    queue_table = gr.Dataframe(headers=["job", "state", "what", "progress", "message"], interactive=False,
                               elem_id="queue")
    with gr.Row():
        cancel_id = gr.Number(label="Job", precision=0, elem_id="cancel-id")
        cancel_btn = gr.Button("Cancel job", elem_id="cancel")

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


def _fill(request: dict[str, Any], ranked: set[str]) -> list:
    """Form values from a request (a past run's, or a PNG's): the settings it painted with, in full, in the
    order of `fill_outputs` (tabs, topic, chosen, top, more, then FIELDS)."""
    checked = PaintSpec.check(request)  # a damaged request is a one-line error, shown as such
    settings = dataclasses.asdict(checked.settings())
    values = {name: settings[name] if name in settings else getattr(checked, name) for name in FIELDS}
    values |= {"template": _one_template(checked.template)}
    values |= {name: "" for name in ("style", "genre", "year") if values[name] is None}  # a text box's empty
    values |= {name: "\n".join(map(str, values[name])) for name in ("loras", "embeddings")}  # one file a line
    return [gr.Tabs(selected="paint"), _topic_of(checked), gr.CheckboxGroup(choices=list(checked.prompts),
                                                                             value=list(checked.prompts)),
            [n for n in checked.artists if n in ranked], [n for n in checked.artists if n not in ranked],
            *(values[f] for f in FIELDS)]


def _gallery_tab(app: gr.Blocks, studio: Studio, tabs, fill_outputs: list, ranked: set[str]) -> None:
    """Past runs as thumbnails, searchable; "Paint again" fills the Paint form with a run's request."""
    query = gr.Textbox(label="Search prompts and artists", elem_id="gallery-search")
    runs = gr.Gallery(label="Past paintings (newest first)", columns=6, height="auto", object_fit="contain",
                      elem_id="gallery")
    run_info = gr.Markdown(elem_id="run-info")
    again_btn = gr.Button("Paint again", elem_id="paint-again")
    selected_run = gr.State(None)

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

    def on_again(run_id):
        run = studio.run(run_id) if run_id else None
        if run is None or run.request is None:
            raise UserError("pick a run in the gallery first")
        return _fill(run.request, ranked)

    again_btn.click(_user_errors(on_again), selected_run, fill_outputs, api_visibility="private")


def _png_info_tab(fill_outputs: list, ranked: set[str]) -> None:
    """A dropped PNG fills the Paint form with the parameters it was painted with."""
    upload = gr.File(label="Drop a PNG painted by creative-painting", file_types=[".png"], elem_id="pnginfo-upload")
    png_message = gr.Markdown(elem_id="pnginfo-message")
    png_json = gr.JSON(label="Parameters")

    def on_png_info(path):
        """Fill the form from the PNG, then empty the drop zone for the next one."""
        if not path:
            return [gr.skip()] * len(fill_outputs) + ["", None, None]
        try:
            info = png_parameters(path)
            filled = _fill(info["request"], ranked)
        except UserError as e:
            return [gr.skip()] * len(fill_outputs) + [f"**Not read:** {html.escape(str(e))}", None, None]
        return [*filled, f"Parameters of a PNG painted by {html.escape(str(info['model']))} "
                         "are now in the Paint form.", info, None]

    upload.upload(on_png_info, upload, [*fill_outputs, png_message, png_json, upload], api_visibility="private")


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
        info["files"] = ["/gradio_api/file=" + p for p in info["downloads"]]  # none until it is done
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
    from creative_painting.painting.images import MAX_UPLOAD_BYTES

    app = build_app(studio)
    app.queue(default_concurrency_limit=None)
    return app.launch(server_name=host, server_port=port, auth=auth, allowed_paths=[str(studio.runs)],
                      max_file_size=MAX_UPLOAD_BYTES, quiet=quiet, prevent_thread_lock=not block, css=CSS,
                      footer_links=["api"], show_error=True, ssr_mode=False)
