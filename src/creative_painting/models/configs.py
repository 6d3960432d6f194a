"""The SD v1 architecture and scheduler configs that ship inside the package, so single files load offline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

COMPONENTS = ("unet", "vae", "text_encoder", "scheduler")
DEFAULT_MODEL = "CompVis/stable-diffusion-v1-4"  # the paper's base model


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
    def from_json(cls, text: str) -> ModelConfigs:
        data = json.loads(text)
        return cls(**{name: data.get(name, {}) for name in COMPONENTS})


def bundled_configs(name: str = "sd-v1") -> ModelConfigs:
    """Configs of CompVis/stable-diffusion-v1-4: U-Net 860M, KL-f8 VAE (scale 0.18215), CLIP ViT-L/14."""
    folder = resources.files("creative_painting.models") / "configs" / name
    return ModelConfigs(**{c: json.loads((folder / f"{c}.json").read_text()) for c in COMPONENTS})
