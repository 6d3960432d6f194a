"""LoRA and textual-inversion files applied to a loaded model, through diffusers' and peft's own loaders.

LoRAs are weighted as A1111 weighs them (`set_adapters`), fused into the weights, and peft's wrappers removed:
the model is plain again, as fast per step as without a LoRA (unfused costs 1.11x: `benchmarks/lora_cost.py`).
The weights fusing touches are backed up first, as A1111 does, so removing the LoRAs restores the model bit
for bit: a long-lived studio paints without a LoRA exactly as before one. Embeddings add tokens to a copy of
the tokenizer and rows to the text encoder's embedding table; removal puts both back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from diffusers.loaders import StableDiffusionLoraLoaderMixin as Loader
from diffusers.loaders import TextualInversionLoaderMixin
from diffusers.loaders.lora_base import (
    _remove_text_encoder_monkey_patch,
    fuse_text_encoder_lora,
    set_adapters_for_text_encoder,
)

from creative_painting.errors import UserError
from creative_painting.models.adapter_files import Embedding, Lora
from creative_painting.models.bundle import StableDiffusion
from creative_painting.models.device import quiet

LORA_A = ("lora_down.", "lora_A.", "lora.down.", "lora_linear_layer.down.")  # one per layer, in every format
SDXL_PREFIXES = ("lora_te2_", "text_encoder_2.")  # its second text encoder; other keys fail by shape


@dataclass
class Applied:
    """What a model paints with now, and what undoes it exactly."""

    key: tuple
    restorable: bool = True  # the fused weights' originals kept (`backups`), so they can be put back
    fused: bool = False
    backups: list[tuple[torch.nn.Parameter, torch.Tensor]] = field(default_factory=list)
    tokenizer: Any = None  # the tokenizer before the embeddings' tokens
    vocab: int = 0  # the text encoder's rows before them

    def expand(self, texts: list[str], tokenizer: Any) -> list[str]:
        """A multi-vector embedding's token becomes its N tokens, as diffusers' pipelines do."""
        return _Holder().maybe_convert_prompt(texts, tokenizer) if self.tokenizer is not None else texts


def use_adapters(model: StableDiffusion, loras: tuple[Lora, ...], embeddings: tuple[Embedding, ...], *,
                 fuse: bool = True, restorable: bool = True) -> None:
    """Make `model` paint with exactly these files (checked by `PaintSpec.validate`), undoing the previous set.
    The same set again costs nothing. A file that does not fit the model is a one-line error, and the model is
    left as it was. `restorable=False` (a process that paints one set and ends: `paint`, `batch`) keeps no
    backup of the fused weights, which full-size SD v1 pays 1.3 GB for with a LoRA on every attention layer."""
    key = (tuple(loras), tuple(embeddings), fuse)
    current = model.adapters
    if (current.key if current else ((), (), fuse)) == key:
        return
    if current is not None:
        remove_adapters(model)
    if not loras and not embeddings:
        return
    applied = model.adapters = Applied(key, restorable=restorable)
    try:
        # diffusers logs a failed load in full before raising, and transformers shows a bar for 24 tensors
        with quiet("diffusers", "transformers", "peft", bars=True):
            if embeddings:
                _add_embeddings(model, embeddings, applied)
            if loras:  # last: fusing cannot be refused
                _add_loras(model, loras, fuse, applied)
    except BaseException:
        remove_adapters(model)
        raise


def remove_adapters(model: StableDiffusion) -> None:
    """Back to the bare model, bit for bit."""
    applied = model.adapters
    if applied is None:
        return
    if applied.fused and not applied.restorable:
        raise RuntimeError("these LoRAs were fused without a backup (restorable=False): reload the model")
    model.adapters = None
    if applied.tokenizer is not None:
        model.tokenizer = applied.tokenizer
        model.text_encoder.resize_token_embeddings(applied.vocab)
    with torch.no_grad():
        for parameter, original in applied.backups:
            parameter.copy_(original)
    _unwrap(model)


def _unwrap(model: StableDiffusion) -> None:
    """Every peft layer (a failed load's too) replaced by the layer it wraps, whose weights stay as they are."""
    model.unet.unload_lora()
    _remove_text_encoder_monkey_patch(model.text_encoder)


def _add_loras(model: StableDiffusion, loras: tuple[Lora, ...], fuse: bool, applied: Applied) -> None:
    names = [f"lora{i}" for i in range(len(loras))]
    for name, lora in zip(names, loras, strict=True):
        tensors = read_tensors(Path(lora.path), "lora")
        layers = _check_family(tensors, lora)
        try:
            state, alphas = Loader.lora_state_dict(dict(tensors))  # it empties the dict it converts
            if any(k.startswith("unet.") for k in state):
                Loader.load_lora_into_unet(state, alphas, model.unet, adapter_name=name)
            if any(k.startswith("text_encoder.") for k in state):
                Loader.load_lora_into_text_encoder(state, alphas, model.text_encoder, adapter_name=name)
        except (RuntimeError, ValueError, KeyError) as e:
            raise UserError(f"lora {Path(lora.path).name} does not fit this model (made for another architecture?): "
                            f"{_first_line(e)}") from None
        loaded = sum(1 for layer in _lora_layers(model) if name in layer.lora_A)
        if loaded < layers:  # a file for another model is refused, not half applied
            raise UserError(f"lora {Path(lora.path).name}: {layers - loaded} of its {layers} layers are not in this "
                            "model (made for another architecture?)")
    weights = dict(zip(names, (lora.weight for lora in loras), strict=True))  # A1111's weight: peft's scale
    unet = [n for n in names if n in _adapters(model.unet)]
    text = [n for n in names if n in _adapters(model.text_encoder)]
    if unet and model.unet_runner is not None and not isinstance(model.unet_runner, torch.nn.Module):
        raise UserError("--backend openvino paints with the U-Net weights it converted; a LoRA for the U-Net "
                        "needs --backend torch or compile")
    if unet:
        model.unet.set_adapters(unet, [weights[n] for n in unet])
    if text:
        set_adapters_for_text_encoder(text, model.text_encoder, [weights[n] for n in text])
    if fuse:
        if applied.restorable:
            applied.backups = [(layer.base_layer.weight, layer.base_layer.weight.detach().clone())
                               for layer in _lora_layers(model)]
        if unet:
            model.unet.fuse_lora(adapter_names=unet)
        if text:
            fuse_text_encoder_lora(model.text_encoder, adapter_names=text)
        applied.fused = True
        _unwrap(model)  # the fused weights stay in the plain layers: no wrapper is called per step


def _add_embeddings(model: StableDiffusion, embeddings: tuple[Embedding, ...], applied: Applied) -> None:
    applied.tokenizer, applied.vocab = model.tokenizer, model.text_encoder.get_input_embeddings().weight.shape[0]
    model.tokenizer = copy.deepcopy(model.tokenizer)
    width = model.text_encoder.get_input_embeddings().weight.shape[1]
    for embedding in embeddings:
        name = Path(embedding.path).name
        vectors = embedding_vectors(read_tensors(Path(embedding.path), "embedding"), name)
        if vectors.shape[-1] != width:
            raise UserError(f"embedding {name} has vectors of width {vectors.shape[-1]}, this model's text encoder "
                            f"{width} (made for another model?)")
        if embedding.token in model.tokenizer.get_vocab() or f"{embedding.token}_1" in model.tokenizer.get_vocab():
            raise UserError(f"embedding {name}: the token {embedding.token!r} is already a word of this model; "
                            f"choose another, {name}:TOKEN")
        _Holder().load_textual_inversion(vectors.to(model.text_encoder.dtype), token=embedding.token,
                                         tokenizer=model.tokenizer, text_encoder=model.text_encoder)


class _Holder(TextualInversionLoaderMixin):
    """What diffusers' textual-inversion loader reads of a pipeline besides the tokenizer and text encoder
    (given to it): no device map, no offloaded components."""

    hf_device_map = None
    components: dict = {}


def embedding_vectors(state: dict[str, Any], name: str) -> torch.Tensor:
    """The vectors of an A1111 `.pt` (`string_to_param`), an A1111 `.safetensors` (`emb_params`) or a diffusers
    `learned_embeds` file (one token: one tensor): (vectors, width)."""
    if isinstance(state.get("string_to_param"), dict) and "*" in state["string_to_param"]:
        vectors = state["string_to_param"]["*"]
    elif len(state) == 1:
        vectors = next(iter(state.values()))
    else:
        raise UserError(f"embedding {name} is not a textual-inversion file (keys: {', '.join(sorted(state)[:4])})")
    if not isinstance(vectors, torch.Tensor) or vectors.ndim not in (1, 2) or not vectors.is_floating_point():
        raise UserError(f"embedding {name} holds no vectors of floats")
    return vectors.detach().reshape(-1, vectors.shape[-1]).float()


def read_tensors(path: Path, kind: str) -> dict[str, Any]:
    """A file's tensors, without running any of its code: safetensors, or `torch.load(weights_only=True)`."""
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return load_file(path, device="cpu")
        state = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as e:
        raise UserError(f"{kind} {path.name} cannot be read: {_first_line(e)}") from None
    except Exception as e:  # damaged bytes, or a pickle that holds more than tensors
        unsafe = "weights_only" in str(e) or "Unsupported global" in str(e)
        why = ("is a pickle holding more than tensors (not loaded: it could run code)" if unsafe
               else f"is damaged or not a tensor file ({_first_line(e)})")
        raise UserError(f"{kind} {path.name} {why}") from None
    if not isinstance(state, dict) or not state:
        raise UserError(f"{kind} {path.name} holds no named tensors")
    return state


LYCORIS = {".hada_w1_a": "LoHa", ".lokr_w1": "LoKr", ".oft_blocks": "OFT", ".oft_diag": "OFT", ".diff": "full-difference",
           ".w_norm": "norm"}  # key endings of LyCORIS files (their layers are named as kohya's: lora_unet_...)


def _check_family(tensors: dict[str, Any], lora: Lora) -> int:
    """A LoRA for SD v1 (not SDXL, not another kind of file): its number of layers."""
    name = Path(lora.path).name
    if any(k.startswith(SDXL_PREFIXES) for k in tensors):
        raise UserError(f"lora {name} is for SDXL (two text encoders), not a Stable Diffusion v1 model")
    layers = sum(1 for k in tensors if any(marker in k for marker in LORA_A))
    lycoris = next((kind for end, kind in LYCORIS.items()
                    if any(k.startswith("lora_") and k.endswith(end) for k in tensors)), None)
    if lycoris and not layers:  # A1111 reads them through its LyCORIS code; diffusers' loaders do not
        raise UserError(f"lora {name} is a LyCORIS {lycoris} file, which diffusers' loaders do not read: "
                        "use a LoRA (or LoCon) file, or convert it")
    if not layers:
        raise UserError(f"lora {name} holds no LoRA layers (keys: {', '.join(sorted(tensors)[:3])}, ...)")
    return layers


def _lora_layers(model: StableDiffusion) -> list:
    from peft.tuners.lora import LoraLayer

    return [m for part in (model.unet, model.text_encoder) for m in part.modules() if isinstance(m, LoraLayer)]


def _adapters(module: torch.nn.Module) -> dict:
    return getattr(module, "peft_config", None) or {}


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = next((t.strip() for t in text if "size mismatch" in t), text[0] if text else type(error).__name__)
    return line if len(line) <= 200 else line[:197] + "..."
