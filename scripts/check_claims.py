"""Break each headline claim on purpose in a copy of src/ and check that the fast tests backing it fail.

    .venv/bin/python scripts/check_claims.py            # every claim (about 10 minutes on 2 cores)
    .venv/bin/python scripts/check_claims.py guidance   # the claims whose name contains "guidance"

A claim whose mutant survives (its tests still pass) is not backed: the script exits 1 and names it.
docs/claims.md lists the same claims with the tests that back them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Claim:
    name: str
    file: str  # under src/creative_painting/
    old: str
    new: str  # the wrong implementation
    tests: tuple[str, ...]


CLAIMS = [
    Claim("guidance is Eq. 6 (uncond + s (cond - uncond))", "sampling/guidance.py",
          "eps_uncond + scale * (eps_cond - eps_uncond)", "eps_cond + scale * (eps_uncond - eps_cond)",
          ("tests/painting/test_reference_pipeline.py",)),
    Claim("latents are divided by the VAE scaling factor before decoding", "painting/painter.py",
          "latents.to(model.vae.dtype) / model.vae.config.scaling_factor",
          "latents.to(model.vae.dtype) * model.vae.config.scaling_factor",
          ("tests/painting/test_reference_pipeline.py",)),
    Claim("every grid cell starts from the seed's noise", "painting/spec.py",
          "seed=self.seed + k, image=k", "seed=self.seed + k + cell.col, image=k",
          ("tests/painting/test_painting.py",)),
    Claim("an image depends on its own seed only", "painting/painter.py",
          "generators = [torch.Generator(\"cpu\").manual_seed(job.seed) for job in jobs]",
          "generators = [torch.Generator(\"cpu\").manual_seed(jobs[0].seed) for job in jobs]",
          ("tests/painting/test_painting.py",)),
    Claim("DDIM takes eta (eta=1 is stochastic)", "sampling/loop.py",
          "step_kwargs[\"eta\"] = 0.0 if eta is None else eta", "step_kwargs[\"eta\"] = 0.0",
          ("tests/sampling/test_samplers.py", "tests/painting/test_reference_pipeline.py")),
    Claim("PLMS is CompVis' (pseudo improved Euler first, then Adams-Bashforth)", "sampling/samplers.py",
          "{\"skip_prk_steps\": True}", "{\"skip_prk_steps\": False}",
          ("tests/sampling/test_samplers.py", "tests/painting/test_reference_pipeline.py")),
    Claim("captions say 'by {artist}'", "templates.py",
          "[ by {artist}]", "[ with {artist}]", ("tests/painting/test_captions.py",)),
    Claim("stage 1 trains a text encoder from scratch", "training/trainer.py",
          "if cfg.stage == 1 and cfg.text_encoder_init == \"scratch\":", "if False:",
          ("tests/training/test_training.py",)),
    Claim("stage 1 keeps the U-Net frozen", "training/trainer.py",
          "unet.requires_grad_(cfg.stage == 2 and not cfg.lora_rank)", "unet.requires_grad_(not cfg.lora_rank)",
          ("tests/training/test_training.py",)),
    Claim("stage 2 trains the text encoder too", "training/trainer.py",
          "text_encoder.requires_grad_(cfg.train_text_encoder)", "text_encoder.requires_grad_(cfg.stage == 1)",
          ("tests/training/test_training.py",)),
    Claim("stage 2 trains the U-Net", "training/trainer.py",
          "        groups.append({\"params\": [p for p in unet.parameters() if p.requires_grad], \"lr\": cfg.learning_rate})",
          "        pass", ("tests/training/test_training.py",)),
    Claim("stage 2 learns 'by {artist}' (reduced held-out demo)", "training/loss.py",
          "    hidden = text_encoder(ids)[0]\n", "    hidden = text_encoder(ids)[0] * 0\n",
          ("tests/experiment/test_demo.py::test_reduced_demo_stage2_learns_the_artists_of_seen_pairs",)),
    Claim("resume restores weights and optimizer", "training/checkpoints.py",
          "        accelerator.load_state(str(path))", "        pass", ("tests/training/test_training.py",)),
    Claim("resume continues the data order of the step", "training/trainer.py",
          "range(start_step * accum, cfg.max_steps * accum)", "range(0, (cfg.max_steps - start_step) * accum)",
          ("tests/training/test_training.py",)),
    Claim("the EMA weights are checkpointed", "training/checkpoints.py",
          "                target.data.copy_(value)", "                pass", ("tests/training/test_training.py",)),
    Claim("config overrides, job files, forms and the API take their field's type (one coercion)", "config_files.py",
          "    origin, args = typing.get_origin(kind), typing.get_args(kind)",
          "    return value\n    origin, args = typing.get_origin(kind), typing.get_args(kind)",
          ("tests/training/test_training.py", "tests/test_hostile_inputs.py", "tests/studio/test_service.py")),
    Claim("score uses cos(emb(prompt), emb(candidate))", "extension/scoring.py",
          "cosines = vectors[1:] @ vectors[0]", "cosines = vectors[1:] @ vectors[1]",
          ("tests/extension/test_extend.py",)),
    Claim("score has the TF-IDF term", "extension/scoring.py",
          "lexical = tfidf.similarity(prompt, texts)", "lexical = 0 * tfidf.similarity(prompt, texts)",
          ("tests/extension/test_extend.py",)),
    Claim("score counts spatial and temporal entities", "extension/scoring.py",
          'terms["entities"] = len(ents)', 'terms["entities"] = 0', ("tests/extension/test_extend.py",)),
    Claim("a resumed index fits the same TF-IDF (reservoir persisted)", "extension/index.py",
          "                reservoir.save()\n", "                pass\n", ("tests/extension/test_corpus_and_index.py",)),
    Claim("an uncompressed tar is listed by seeking, not read", "wikiart/sources.py",
          "mode=\"r:\" if seekable else \"r|*\"", "mode=\"r|*\"", ("tests/wikiart/test_sources.py",)),
    Claim("a folder that is not ours is never replaced", "files.py",
          "    marker = read_marker(path)\n    if marker is None:",
          "    marker = read_marker(path)\n    if marker is None and False:",
          ("tests/test_hostile_inputs.py",)),
    Claim("outputs follow the umask", "files.py",
          "    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())", "    pass",
          ("tests/test_files.py", "tests/training/test_training.py")),
    Claim("a second run on a busy folder is refused", "files.py",
          "            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "            pass",
          ("tests/test_hostile_inputs.py",)),
    Claim("non-finite guidance is refused", "sampling/presets.py",
          "            if value is not None and not math.isfinite(value):",
          "            if False:", ("tests/test_hostile_inputs.py",)),
    Claim("studio: a job killed while running runs again after a restart", "studio/queue.py",
          "db.execute(\"UPDATE jobs SET state = 'pending', started = NULL, done_steps = 0 WHERE state = 'running'\")",
          "pass", ("tests/studio/test_queue.py",)),
    Claim("studio: files come only from the data folder", "studio/service.py",
          "if not candidate.is_relative_to(self.data) or not candidate.is_file():",
          "if not candidate.is_file():", ("tests/studio/test_service.py",)),
    Claim("studio: binding another address needs --auth", "cli/studio_cmd.py",
          "if not local and auth is None:", "if False:", ("tests/studio/test_server.py::test_security_traversal_auth_and_upload_limits",)),
    Claim("studio: form values get paint's checks", "painting/spec.py",
          "        self.settings().validate()\n", "",
          ("tests/studio/test_service.py",)),
    Claim("the CPU fast path runs the U-Net in bf16", "models/device.py",
          "        model.unet.to(dtype=torch.bfloat16)", "        pass", ("tests/painting/test_fast_paths.py",)),
    Claim("studio: PNG info refuses a decompression bomb before decoding", "studio/service.py",
          "if image.width * image.height > MAX_UPLOAD_PIXELS:", "if False:", ("tests/studio/test_service.py",)),
    Claim("scene scoring: entities saturate (kinds, not a count)", "extension/scoring.py",
          'terms["entity_kinds"] = entity_kinds(ents)', 'terms["entity_kinds"] = len(ents)',
          ("tests/extension/test_scene_scoring.py",)),
    Claim("scene scoring: paintability is a term of the score", "extension/scoring.py",
          'weights["l3"] * terms["paintability"]', '0 * terms["paintability"]',
          ("tests/extension/test_scene_scoring.py",)),
    Claim("scene scoring: a long candidate is shortened before it is scored", "extension/shorten.py",
          "    if fit(text):\n        return text\n", "    return text\n",
          ("tests/extension/test_scene_scoring.py",)),
    Claim("paper scoring: one l2 per entity, as published", "extension/scoring.py",
          'return score + weights["l2"] * terms["entities"]', 'return score + weights["l2"] * min(1, terms["entities"])',
          ("tests/extension/test_scene_scoring.py", "tests/extension/test_extend.py")),
    Claim("rewritten scenes carry the sentence they came from", "extension/generators.py",
          "Candidate(reply, self.kind, c.title, c.text, c.sources)", "Candidate(reply, self.kind, c.title, sources=c.sources)",
          ("tests/extension/test_rewrite.py",)),
    Claim("a failing generator is not removed from the extender's list", "extension/pipeline.py",
          "            self.failed[generator.spec] = str(e)\n",
          "            self.failed[generator.spec] = str(e)\n            self.generators.remove(generator)\n",
          ("tests/extension/test_extend.py",)),
    Claim("the bundled MiniLM (torch alone) gives sentence-transformers' vectors", "extension/bert.py",
          "self.positions[: input_ids.shape[1]] + self.token_type", "self.positions[: input_ids.shape[1]]",
          ("tests/extension/test_embedding.py",)),
    Claim("TF-IDF without scikit-learn equals its transform (sublinear tf)", "extension/tfidf.py",
          "(1 + math.log(n) if self.sublinear_tf else n)", "(n if self.sublinear_tf else n)",
          ("tests/extension/test_tfidf.py",)),
    Claim("truth: a preposition that places nothing ('after India') lends no place", "extension/support.py",
          "        if preposition.lower_ not in allowed:", "        if False:", ("tests/extension/test_true_scenes.py",)),
    Claim("truth: a date of a statistic dates no scene", "extension/support.py",
          'if kind == "date" and STATISTIC.search(', 'if False and STATISTIC.search(',
          ("tests/extension/test_true_scenes.py",)),
    Claim("truth: most of a scene's words are in its source", "extension/support.py",
          "if words and len(covered) < self.coverage * len(words):", "if False:",
          ("tests/extension/test_true_scenes.py",)),
    Claim("truth: a place is bound to what the candidate shows, not only found", "extension/support.py",
          "        if not shared:\n", "        if False:\n", ("tests/extension/test_true_scenes.py",)),
    Claim("truth: the core is the candidate's head and subject, not its objects", "extension/support.py",
          'c.dep_ in ("nsubj", "nsubjpass", "acl", "relcl")])', 'c.dep_ in ("nsubj", "nsubjpass", "acl", "relcl", "dobj")])',
          ("tests/extension/test_true_scenes.py",)),
    Claim("a topic scene never adds the topic's own place", "extension/scenes.py",
          "                       and e.text.lower() not in subject.lower()]", "                       ]",
          ("tests/extension/test_scenes.py",)),
    Claim("scene scoring: a time of day earns no entity kind", "extension/scoring.py",
          "any(e.kind == \"temporal\" and is_real_date(e.text) for e in entities)",
          "any(e.kind == \"temporal\" for e in entities)", ("tests/extension/test_scenes.py",)),
    Claim("one record schema: a picture's record from paint or batch repaints it (its template kept)",
          "painting/spec.py", '"template": cell.template,', '"template": DEFAULT_TEMPLATE,',
          ("tests/painting/test_spec.py",)),
    Claim("a cell's id hashes its negative prompt (a changed setting is never a finished cell)", "painting/spec.py",
          '"model": model,\n                                    "negative": self.negative}',
          '"model": model}', ("tests/painting/test_spec.py",)),
    Claim("--compile: the painter uses the compiled U-Net's output", "painting/painter.py",
          "unet = model.unet if model.unet_runner is None else model.unet_runner", "unet = model.unet",
          ("tests/painting/test_compile.py",)),
    Claim("--compile on a GPU: each graph replay reads this call's inputs (no stale graph input)", "models/graphs.py",
          "            buffer.copy_(value)\n", "            pass\n", ("tests/sampling/test_graphs.py",)),
    Claim("--compile on a GPU: each replay reads every input, the timestep and captions too", "models/graphs.py",
          "zip(graph.inputs, inputs, strict=True)", "zip(graph.inputs[:1], inputs[:1], strict=True)",
          ("tests/sampling/test_graphs.py",)),
    Claim("--compile on a GPU: a replay's output is copied before the next overwrites it (PLMS keeps it)",
          "models/graphs.py", "return graph.out.clone()", "return graph.out", ("tests/sampling/test_graphs.py",)),
    Claim("--compile on a GPU: a graph bakes in its guidance scale, so each scale has its own", "sampling/guidance.py",
          'key = ("guided", scale) if guided else "unguided"', 'key = "guided" if guided else "unguided"',
          ("tests/sampling/test_graphs.py",)),
    Claim("--compile on a GPU: the painter replays the model's graphs", "painting/painter.py",
          "denoise = guided_denoiser(unet, cond, uncond, settings.scale, graphs=model.graphs)",
          "denoise = guided_denoiser(unet, cond, uncond, settings.scale)", ("tests/sampling/test_graphs.py",)),
    Claim("DDIM's noise drawn ahead is the noise it draws itself, step by step", "sampling/loop.py",
          "yield from block.to(device, non_blocking=True)", "yield from block.flip(0).to(device, non_blocking=True)",
          ("tests/sampling/test_graphs.py",)),
    Claim("extension: the topic in another setting is one scene", "extension/pipeline.py",
          "    later = {id(s) for s in own[1:]}", "    later = set()", ("tests/extension/test_scenes.py",)),
    Claim("--long-prompt chunk reads every chunk", "painting/painter.py",
          "return hidden.reshape(-1, hidden.shape[-1])", "return hidden[0]",
          ("tests/painting/test_long_prompt.py",)),
    Claim("--long-prompt chunk pads with the empty prompt's chunk", "painting/painter.py",
          "torch.cat([e, *[empty] * ((longest - e.shape[0]) // empty.shape[0])])",
          "torch.cat([e, *[torch.zeros_like(empty)] * ((longest - e.shape[0]) // empty.shape[0])])",
          ("tests/painting/test_long_prompt.py",)),
    Claim("--backend openvino paints with the OpenVINO U-Net", "painting/painter.py",
          "unet = model.unet if model.unet_runner is None else model.unet_runner", "unet = model.unet",
          ("tests/painting/test_fast_paths.py",)),
    Claim("the OpenVINO cache is keyed by the weights", "models/openvino_unet.py",
          "        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())\n", "",
          ("tests/painting/test_fast_paths.py",)),
    Claim("accelerate processes each paint their own share of the cells", "batch/runner.py",
          "todo = [c for c in cells if c.id not in finished][rank::world]",
          "todo = [c for c in cells if c.id not in finished]", ("tests/batch/test_batch.py",)),
    Claim("large images are decoded in tiles, one at a time", "painting/painter.py",
          "large = latents.shape[-2] * latents.shape[-1] * f * f > VAE_TILING_PIXELS", "large = False",
          ("tests/painting/test_painting.py",)),
    Claim("a paint that would not fit in memory is refused, naming a batch size that fits", "painting/memory.py",
          "    if need <= free:\n        return\n", "    return\n", ("tests/painting/test_memory.py",)),
    Claim("the memory estimate counts the guided batch twice", "painting/memory.py",
          "guided = batch_size * (2 if settings.scale != 1.0 else 1)", "guided = batch_size",
          ("tests/painting/test_memory.py",)),
    Claim("images are decoded one at a time, so the decode's memory does not grow with the batch",
          "painting/painter.py", "torch.cat([model.vae.decode(one).sample for one in latents.split(1)])",
          "model.vae.decode(latents).sample", ("tests/painting/test_memory.py",)),
    Claim("Min-SNR weights are min(SNR, gamma) / SNR, at most 1", "training/loss.py",
          "torch.minimum(snr, torch.full_like(snr, gamma))", "torch.maximum(snr, torch.full_like(snr, gamma))",
          ("tests/training/test_recipe_claims.py",)),
    Claim("the trainer applies the Min-SNR weights it is configured with", "training/trainer.py",
          "snr_gamma=self.cfg.snr_gamma,", "snr_gamma=0.0,", ("tests/training/test_recipe_claims.py",)),
    Claim("the EMA is updated after every optimizer step", "training/trainer.py",
          "                self.ema.step(self.params)\n", "                pass\n", ("tests/training/test_recipe_claims.py",)),
    Claim("the text encoder learns at text_encoder_learning_rate", "training/trainer.py",
          '"lr": cfg.text_encoder_learning_rate or cfg.learning_rate', '"lr": cfg.learning_rate',
          ("tests/training/test_recipe_claims.py",)),
    Claim("the learning rate warms up from zero", "training/trainer.py",
          "num_warmup_steps=cfg.warmup_steps", "num_warmup_steps=0", ("tests/training/test_recipe_claims.py",)),
    Claim("gradient accumulation makes one step of several micro-batches", "training/trainer.py",
          "gradient_accumulation_steps=cfg.gradient_accumulation_steps,", "gradient_accumulation_steps=1,",
          ("tests/training/test_recipe_claims.py",)),
    Claim("captions drop out at caption_dropout", "training/trainer.py",
          "caption_dropout=cfg.caption_dropout,", "caption_dropout=0.0,", ("tests/training/test_recipe_claims.py",)),
    Claim("artists are balanced at the configured power", "training/trainer.py",
          "field_dropout=cfg.field_dropout, balance=cfg.balance,", "field_dropout=cfg.field_dropout, balance=0.0,",
          ("tests/training/test_recipe_claims.py",)),
    Claim("PNG info repaints with the PNG's own caption template", "studio/service.py",
          'template = meta.get("template") or _template_of(meta, request)', "template = None",
          ("tests/studio/test_service.py",)),
    Claim("PNG info repaints in a batch of the original's size, so bit for bit", "painting/painter.py",
          "        if pad_to and count < pad_to:", "        if False:", ("tests/studio/test_service.py",)),
    Claim("the studio's topic row keeps the default template when extensions are ticked", "studio/ui.py",
          "DEFAULT_TEMPLATE if p == topic.strip() else EXTENDED_TEMPLATE",
          "EXTENDED_TEMPLATE if len(prompts) > 1 else DEFAULT_TEMPLATE", ("tests/studio/test_service.py",)),
    Claim("a batch folder holds one job: another is refused without --overwrite", "batch/runner.py",
          "replace = out.is_dir() and _holds_another_job(out, cells)", "replace = False",
          ("tests/batch/test_batch.py",)),
    Claim("one request paints at most 256 images (paint, studio form and API)", "painting/spec.py",
          "if spec.count() > max_images:", "if False:", ("tests/studio/test_service.py",)),
    Claim("a cleared form or API field keeps its default", "painting/spec.py",
          'if name not in ("prompts", "artists") and (value is None', 'if False and (value is None',
          ("tests/painting/test_spec.py",)),
    Claim("wide grids wrap at 10 columns", "painting/grid.py",
          "    if len(images[0]) > max_cols:", "    if False:", ("tests/painting/test_painting.py",)),
    Claim("training keeps fp32 master weights whatever the checkpoint's dtype", "training/trainer.py",
          '"unet": torch.float32 if cfg.stage == 2', '"unet": torch.float16 if cfg.stage == 2',
          ("tests/training/test_precision_and_options.py",)),
    Claim("frozen parts are held in the autocast precision (the U-Net in stage 1, the VAE)", "training/trainer.py",
          '"vae": frozen}', '"vae": torch.float32}', ("tests/training/test_option_equivalence.py",)),
    Claim("frozen parts load straight into their precision, never through fp32 (stage 1: 0.75 GB lower peak)",
          "training/trainer.py", "model = load_model(cfg.model, dtypes=weight_dtypes(cfg))",
          "model = load_model(cfg.model)", ("tests/training/test_option_equivalence.py",)),
    Claim("a load with dtypes gives each part straight in its dtype", "models/loading.py",
          'torch_dtype=dtypes.get("unet")', "torch_dtype=None", ("tests/models/test_loading.py",)),
    Claim("frozen parts are exported exactly as the source holds them, also after bf16 training",
          "training/trainer.py", '    if cfg.mixed_precision != "no":\n        from creative_painting.models import load_model',
          '    if False:\n        from creative_painting.models import load_model', ("tests/training/test_training.py",)),
    Claim("gradient checkpointing covers the frozen U-Net in stage 1", "training/trainer.py",
          "        (unet.base_model.model if cfg.lora_rank else unet).enable_gradient_checkpointing()",
          "        if cfg.stage == 2:\n            unet.enable_gradient_checkpointing()",
          ("tests/training/test_option_equivalence.py",)),
    Claim("adam_kernel foreach is not silently the fused kernel", "training/trainer.py",
          'fused=cfg.adam_kernel == "fused",', "fused=True,", ("tests/training/test_option_equivalence.py",)),
    Claim("use_8bit_adam really keeps 8-bit moments", "training/trainer.py",
          "return AdamW8bit(groups, weight_decay=cfg.weight_decay)",
          "return torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)",
          ("tests/training/test_option_equivalence.py",)),
    Claim("8-bit AdamW frees each gradient once its tensor is updated", "training/trainer.py",
          "                p.grad = None\n", "                pass\n", ("tests/training/test_option_equivalence.py",)),
    Claim("8-bit AdamW updates the U-Net's group first (its gradients freed before the token embedding's update)",
          "training/trainer.py", "                self.param_groups.reverse()\n                try:\n"
          "                    return super().step(closure)\n                finally:\n"
          "                    self.param_groups.reverse()\n", "                return super().step(closure)\n",
          ("tests/training/test_option_equivalence.py",)),
    Claim("EMA never changes the weights that train", "training/trainer.py",
          "                self.ema.step(self.params)\n",
          "                self.ema.step(self.params)\n                self.ema.copy_to(self.params)\n",
          ("tests/training/test_option_equivalence.py",)),
    Claim("bf16 mixed precision takes effect", "training/trainer.py",
          "Accelerator(mixed_precision=cfg.mixed_precision,", 'Accelerator(mixed_precision="no",',
          ("tests/training/test_option_equivalence.py",)),
    Claim("the training estimate counts the EMA copy", "training/memory.py",
          "ema = 4 * trained if cfg.ema_decay and", "ema = 0 if cfg.ema_decay and",
          ("tests/training/test_memory_estimate.py",)),
    Claim("a local checkpoint is counted from its headers, as loaded, without building modules",
          "training/memory.py", "return _header_counts(model) or dict(", "return None or dict(",
          ("tests/training/test_memory_estimate.py",)),
    Claim("header counts map a CompVis file's keys to their parts", "training/memory.py",
          'VAE_PREFIX: "vae"', 'VAE_PREFIX: "unet"', ("tests/training/test_memory_estimate.py",)),
    Claim("header counts leave integer buffers out", "training/memory.py",
          "if owner and tensor.get_dtype() in FLOAT_DTYPES:", "if owner:", ("tests/training/test_memory_estimate.py",)),
    Claim("an offloaded EMA is not counted in GPU memory", "training/memory.py",
          ' and not (cfg.ema_offload and device == "cuda")', "", ("tests/training/test_memory_estimate.py",)),
    Claim("on a GPU the refusal offers to offload the EMA", "training/memory.py",
          'options.append({"ema_offload": True})', "pass", ("tests/training/test_memory_estimate.py",)),
    Claim("an offloaded EMA is still updated", "training/trainer.py",
          "            with self._ema_on_device():\n                self.ema.step(self.params)\n",
          "            with self._ema_on_device():\n                if not _offloads_ema(self.cfg, self.accelerator.device):\n"
          "                    self.ema.step(self.params)\n", ("tests/training/test_option_equivalence.py",)),
    Claim("an offloaded EMA goes back to host memory after its update", "training/trainer.py",
          '                self.ema.to("cpu", non_blocking=True)  # into pinned memory\n', "                pass\n",
          ("tests/training/test_option_equivalence.py",)),
    Claim("the training estimate holds frozen weights in the autocast precision", "training/memory.py",
          "weights = 4 * trained + low * (", "weights = 4 * trained + 4 * (", ("tests/training/test_memory_estimate.py",)),
    Claim("the training estimate counts autocast's copies of the trained weights", "training/memory.py",
          'casts = low * trained if cfg.mixed_precision != "no" else 0', "casts = 0",
          ("tests/training/test_memory_estimate.py",)),
    Claim("a run that will not fit is refused before loading", "training/memory.py",
          "    if need <= free:\n", "    if True:\n", ("tests/training/test_memory_estimate.py",)),
    Claim("8-bit AdamW without bitsandbytes is refused, not replaced", "training/trainer.py",
          'if cfg.use_8bit_adam and importlib.util.find_spec("bitsandbytes") is None:', "if False:",
          ("tests/training/test_precision_and_options.py",)),
]


def run(claim: Claim) -> tuple[bool, float]:
    """True if the mutant is killed (its tests fail)."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "src", Path(tmp) / "src")
        target = Path(tmp) / "src" / "creative_painting" / claim.file
        text = target.read_text()
        if claim.old not in text:
            raise SystemExit(f"{claim.name}: the code to break is no longer in {claim.file}: {claim.old!r}")
        target.write_text(text.replace(claim.old, claim.new, 1))
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src"), "HF_HUB_OFFLINE": "1"}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-m", "", "-p", "no:cacheprovider",
                                 *claim.tests],
                                cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode not in (0, 1):  # 2+: collection error, usage error: not a verdict on the claim
            raise SystemExit(f"{claim.name}: pytest could not run ({result.returncode}):\n{result.stdout[-2000:]}")
        return result.returncode == 1, time.perf_counter() - started


def main(argv: list[str]) -> int:
    chosen = [c for c in CLAIMS if not argv or any(a in c.name for a in argv)]
    for claim in chosen:  # a stale pattern is a broken script, found before minutes of runs
        if claim.old not in (ROOT / "src" / "creative_painting" / claim.file).read_text():
            raise SystemExit(f"{claim.name}: the code to break is no longer in {claim.file}: {claim.old!r}")
    survivors = []
    for claim in chosen:
        killed, seconds = run(claim)
        print(f"{'caught ' if killed else 'MISSED '} {seconds:5.1f} s  {claim.name}", flush=True)
        if not killed:
            survivors.append(claim.name)
    print(f"{len(chosen) - len(survivors)} of {len(chosen)} broken claims caught by the fast tests")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
