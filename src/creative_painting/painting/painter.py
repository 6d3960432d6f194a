"""The paint loop: captions in, images out, in four numbered steps as in diffusers' pipelines."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import torch
from PIL import Image

from creative_painting.models import StableDiffusion
from creative_painting.painting.captions import Cell
from creative_painting.painting.memory import VAE_TILING_PIXELS, check_memory
from creative_painting.painting.spec import LONG_PROMPTS, check_choice
from creative_painting.sampling import SamplingSettings, get_sampler, guided_denoiser, sample

logger = logging.getLogger(__name__)


def batches(items: list, size: int) -> Iterator[list]:
    """Consecutive batches of `size` (the last may be shorter): how `paint` and `batch` group their cells."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@torch.inference_mode()
def encode_text(model: StableDiffusion, texts: list[str]) -> torch.Tensor:
    """CLIP's last hidden states for each text, padded to 77 tokens; warns with what truncation cut."""
    tokenizer = model.tokenizer
    max_length = tokenizer.model_max_length
    texts = model.adapters.expand(texts, tokenizer) if model.adapters else texts  # an embedding of N vectors
    for text in set(texts):
        ids = tokenizer(text, add_special_tokens=False).input_ids
        if len(ids) > max_length - 2:
            cut = tokenizer.decode(ids[max_length - 2 :])
            cut = cut if len(cut) <= 120 else f"{cut[:100]} ... ({len(cut):,} characters)"  # one readable log line
            logger.warning("caption is %d tokens, CLIP reads %d (--long-prompt chunk reads all); cut: %r",
                           len(ids) + 2, max_length, cut)
    tokens = tokenizer(texts, padding="max_length", max_length=max_length, truncation=True, return_tensors="pt")
    return model.text_encoder(tokens.input_ids.to(model.device))[0]


@torch.inference_mode()
def encode_chunks(model: StableDiffusion, text: str) -> torch.Tensor:
    """A1111's long prompts: 75-token chunks, each with its own start and end tokens and padded to 77, encoded
    apart and concatenated along the token axis: (77 * chunks, dim). Up to 75 tokens, `encode_text`'s result."""
    tokenizer = model.tokenizer
    length = tokenizer.model_max_length
    text = model.adapters.expand([text], tokenizer)[0] if model.adapters else text
    ids = tokenizer(text, add_special_tokens=False).input_ids
    chunks = [ids[i : i + length - 2] for i in range(0, len(ids), length - 2)] or [[]]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows = [[tokenizer.bos_token_id, *c, tokenizer.eos_token_id] + [pad] * (length - 2 - len(c)) for c in chunks]
    hidden = model.text_encoder(torch.tensor(rows, device=model.device))[0]
    return hidden.reshape(-1, hidden.shape[-1])


def pad_chunks(embeddings: list[torch.Tensor], empty: torch.Tensor) -> torch.Tensor:
    """Stack embeddings of different chunk counts, each padded with the empty prompt's chunk (as A1111)."""
    longest = max(e.shape[0] for e in embeddings)
    return torch.stack([torch.cat([e, *[empty] * ((longest - e.shape[0]) // empty.shape[0])]) for e in embeddings])


def initial_noise(model: StableDiffusion, cells: list[Cell], settings: SamplingSettings) -> tuple[torch.Tensor, list[torch.Generator]]:
    """Per-image CPU generators: an image depends on its seed only, on every device and batch size."""
    f = model.vae_scale_factor
    shape = (1, model.unet.config.in_channels, settings.height // f, settings.width // f)
    generators = [torch.Generator("cpu").manual_seed(cell.seed) for cell in cells]
    noise = torch.cat([torch.randn(shape, generator=g) for g in generators])
    return noise.to(model.device, latent_dtype(model)), generators


def latent_dtype(model: StableDiffusion) -> torch.dtype:
    """fp16 on GPUs as the U-Net; fp32 with a bf16 U-Net on the CPU, where the sampler's sums need it."""
    return torch.float32 if model.dtype == torch.bfloat16 and model.device.type == "cpu" else model.dtype


@torch.inference_mode()
def decode_latents(model: StableDiffusion, latents: torch.Tensor) -> list[Image.Image]:
    """Pixels from latents, one image at a time (diffusers' VAE slicing): the decoder's full-resolution
    activations take about 4 KB per pixel, so a batch would multiply the peak memory (on the CPU for no speed:
    4 full-size 256 px images decode in 7.3 s either way). Large images are decoded in tiles (diffusers' VAE
    tiling)."""
    latents = latents.to(model.vae.dtype) / model.vae.config.scaling_factor
    f = model.vae_scale_factor
    large = latents.shape[-2] * latents.shape[-1] * f * f > VAE_TILING_PIXELS
    if large:
        model.vae.enable_tiling()
    try:
        pixels = torch.cat([model.vae.decode(one).sample for one in latents.split(1)])
    finally:
        if large:
            model.vae.disable_tiling()
    return pixels_to_images(pixels)


def pixels_to_images(pixels: torch.Tensor) -> list[Image.Image]:
    """The VAE's [-1, 1] NCHW output as 8-bit RGB pictures."""
    pixels = ((pixels.float() / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
    return [Image.fromarray(p.permute(1, 2, 0).cpu().numpy()) for p in pixels]


def paint(model: StableDiffusion, cells: list[Cell], settings: SamplingSettings, *, batch_size: int = 4,
          long_prompt: str = "truncate", **options) -> list[Image.Image]:
    """`render` with its inputs checked here (settings, `long_prompt`, memory), for callers that did not check
    them where they came in (a script, a Ray worker with its own memory); `options` as `render`'s."""
    settings.validate()
    check_choice("long_prompt", long_prompt, LONG_PROMPTS)
    check_memory(model, settings, batch_size, len(cells))
    return render(model, cells, settings, batch_size=batch_size, long_prompt=long_prompt, **options)


@torch.inference_mode()
def render(
    model: StableDiffusion,
    cells: list[Cell],
    settings: SamplingSettings,
    *,
    batch_size: int = 4,
    on_step: Callable[[], None] | None = None,
    long_prompt: str = "truncate",
    pad_to: int | None = None,
) -> list[Image.Image]:
    """Paint one image per cell with classifier-free guidance; returns them in cell order. The inputs were checked
    where they came in (a validated `PaintSpec`, its memory once); `paint` checks them for other callers.

    `long_prompt`: "truncate" (CLIP's 77 tokens, what SD was trained with) or "chunk" (every token is read).
    `pad_to`: fill a shorter batch with copies of its last cell. The U-Net's sums depend on the batch size
    (one grey level here, at most), not on the other images: so an image painted in a batch of N repaints
    bit for bit, alone, in a padded batch of N."""
    sampler = get_sampler(settings.sampler)
    scheduler = sampler.make(model.scheduler_config)  # set_timesteps() resets multistep state per batch
    images: list[Image.Image] = []
    embeddings: dict[str, torch.Tensor] = {}  # a grid repeats captions (images per cell) and negatives

    def embed(texts: list[str]) -> list[torch.Tensor]:
        new = list(dict.fromkeys(t for t in texts if t not in embeddings))
        if new and long_prompt == "chunk":
            embeddings.update((t, encode_chunks(model, t)) for t in new)
        elif new:
            embeddings.update(zip(new, encode_text(model, new), strict=True))
        return [embeddings[t] for t in texts]

    for batch in batches(cells, batch_size):
        count = len(batch)
        if pad_to and count < pad_to:
            batch = batch + [batch[-1]] * (pad_to - count)
        # 1. Encode captions (and negatives, for guidance), each distinct text once; chunked ones are padded
        # to the batch's longest, as cross-attention reads them side by side.
        texts = [cell.caption for cell in batch] + ([cell.negative for cell in batch] if settings.scale != 1.0 else [])
        both = embed(texts)
        if long_prompt == "chunk":
            both = list(pad_chunks(both, embed([""])[0]))
        cond = torch.stack(both[: len(batch)])
        uncond = torch.stack(both[len(batch) :]) if settings.scale != 1.0 else None
        # 2. Prepare the initial latents.
        noise, generators = initial_noise(model, batch, settings)
        # 3. Denoise.
        unet = model.unet if model.unet_runner is None else model.unet_runner  # a compiled module has no truth value
        denoise = guided_denoiser(unet, cond, uncond, settings.scale, graphs=model.graphs)
        latents = sample(denoise, scheduler, sampler, noise, settings.steps,
                         eta=settings.eta, generator=generators, on_step=on_step)
        # 4. Decode to pixels.
        images.extend(decode_latents(model, latents[:count]))
    return images
