"""The SD v1 architecture and scheduler configs that ship inside the package, so single files load offline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from creative_painting.errors import UserError

COMPONENTS = ("unet", "vae", "text_encoder", "scheduler")
LISTS = ("block_out_channels",)
# (low, high) for the keys that size the networks; SD v1 is U-Net 320..1280, VAE 128..512, CLIP 768.
LIMITS = {
    "unet": {"block_out_channels": (8, 4096), "in_channels": (1, 64), "out_channels": (1, 64),
             "cross_attention_dim": (8, 4096)},
    "vae": {"block_out_channels": (8, 2048), "latent_channels": (1, 64)},
    "text_encoder": {"hidden_size": (8, 4096), "intermediate_size": (8, 16384), "num_hidden_layers": (1, 64),
                     "num_attention_heads": (1, 128), "vocab_size": (1, 1_000_000),
                     "max_position_embeddings": (1, 1024)},
}
DEFAULT_MODEL = "CompVis/stable-diffusion-v1-4"  # the paper's base model
TINY = "tiny"  # every --model's name for the tiny random model (`models/tiny.py`): it paints noise, offline
BACKENDS = ("torch", "openvino", "compile")  # here, imported by the flags (no torch) and by models/device.py


@dataclass
class ModelConfigs:
    """Plain-dict configs of the four SD components, in diffusers / transformers form."""

    unet: dict[str, Any]
    vae: dict[str, Any]
    text_encoder: dict[str, Any]
    scheduler: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({name: getattr(self, name) for name in COMPONENTS}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "embedded configuration") -> ModelConfigs:
        try:
            data = json.loads(text)
        except ValueError as e:
            raise UserError(f"{where} is not JSON ({e})") from None
        if not isinstance(data, dict):
            raise UserError(f"{where} must be a JSON object with {', '.join(COMPONENTS)}")
        return cls(**{name: data.get(name, {}) for name in COMPONENTS}).check(where)

    def check(self, where: str) -> ModelConfigs:
        """Refuse what is not SD v1 shaped before anything is allocated (a typo of 1280 -> 1280000 would ask
        for terabytes). The bounds hold every SD 1.x/2.x-sized model and every tiny test model."""
        for name in ("unet", "vae", "text_encoder"):
            config = getattr(self, name)
            if not isinstance(config, dict):
                raise UserError(f"{where}: the {name} config must be a JSON object")
            for key, (low, high) in LIMITS[name].items():
                value = config.get(key)
                values = value if isinstance(value, list) else [value]
                if key not in config or not values or not all(
                        isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in values):
                    raise UserError(f"{where}: {name}.{key} must be {'a list of ' if key in LISTS else ''}"
                                    f"integers in {low}..{high}, got {value!r}")
        if not isinstance(self.scheduler, dict):
            raise UserError(f"{where}: the scheduler config must be a JSON object")
        return self

    def networks(self) -> dict[str, Any]:
        """The U-Net, VAE and text encoder these configs describe, with random weights (none under accelerate's
        `init_empty_weights`)."""
        from diffusers import AutoencoderKL, UNet2DConditionModel
        from transformers import CLIPTextConfig, CLIPTextModel

        return {"unet": UNet2DConditionModel.from_config(self.unet), "vae": AutoencoderKL.from_config(self.vae),
                "text_encoder": CLIPTextModel(CLIPTextConfig.from_dict(self.text_encoder))}


def public(config) -> dict[str, Any]:
    """A config without its private keys (`_class_name`, a scheduler's sampler; `_name_or_path`, a Path; ...)."""
    return {k: v for k, v in dict(config).items() if not k.startswith("_")}


def bundled_configs(name: str = "sd-v1") -> ModelConfigs:
    """Configs of CompVis/stable-diffusion-v1-4: U-Net 860M, KL-f8 VAE (scale 0.18215), CLIP ViT-L/14."""
    folder = resources.files("creative_painting.models") / "configs" / name
    return ModelConfigs(**{c: json.loads((folder / f"{c}.json").read_text()) for c in COMPONENTS})
