"""A loaded Stable Diffusion v1 model: the four components kept apart, plus how to save them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import diffusers
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextModel, CLIPTokenizer

from creative_painting.files import atomic_path, output_dir
from creative_painting.models.compvis_layout import CONFIG_METADATA_KEY, merge_to_compvis
from creative_painting.models.configs import ModelConfigs, public
from creative_painting.models.device import quiet

# What `StableDiffusionPipeline.from_pretrained` reads of a folder: no safety checker, no feature extractor.
MODEL_INDEX = {
    "_class_name": "StableDiffusionPipeline",
    "_diffusers_version": diffusers.__version__,
    "feature_extractor": [None, None],
    "requires_safety_checker": False,
    "safety_checker": [None, None],
    "scheduler": ["diffusers", "PNDMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}


@dataclass
class LoadReport:
    """What a checkpoint had that the model did not use, and what loading ignored on purpose."""

    unused: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


@dataclass
class StableDiffusion:
    """VAE + cross-attention U-Net + CLIP text encoder + tokenizer, and the training noise schedule."""

    unet: UNet2DConditionModel
    vae: AutoencoderKL
    text_encoder: CLIPTextModel
    tokenizer: CLIPTokenizer
    scheduler_config: dict[str, Any]
    source: str = "<memory>"
    report: LoadReport = field(default_factory=LoadReport)
    # What the sampler calls in place of `unet` (an OpenVINO-compiled U-Net); None: the U-Net itself.
    unet_runner: Any = None
    # The guided step replayed as CUDA graphs, one per shape (`models.graphs.CudaGraphs`); None: launched eagerly.
    graphs: Any = None
    # The LoRA and embedding files applied now (`models.adapters.Applied`); None: the model as loaded.
    adapters: Any = None

    @property
    def vae_scale_factor(self) -> int:
        """Pixels per latent cell: 8 for SD v1's four-level VAE."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def device(self) -> torch.device:
        return self.unet.device

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> StableDiffusion:
        for module in (self.unet, self.vae, self.text_encoder):
            same_dtype = dtype is None or next(module.parameters()).dtype == dtype
            module.to(device=device) if same_dtype else module.to(device=device, dtype=dtype)
        return self

    def eval(self) -> StableDiffusion:
        for module in (self.unet, self.vae, self.text_encoder):
            module.eval()
        return self

    def configs(self) -> ModelConfigs:
        return ModelConfigs(
            unet=public(self.unet.config),
            vae=public(self.vae.config),
            text_encoder=public(self.text_encoder.config.to_diff_dict()),
            scheduler=public(self.scheduler_config),
        )

    def compvis_state_dict(self) -> dict[str, torch.Tensor]:
        return merge_to_compvis(self.state_dicts(), dict(self.unet.config), dict(self.vae.config))

    def state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Diffusers-named state dicts of the three networks."""
        return {"unet": self.unet.state_dict(), "vae": self.vae.state_dict(), "text_encoder": self.text_encoder.state_dict()}

    def save_single_file(self, path: str | Path) -> Path:
        """Write one CompVis-layout `.safetensors` or `.ckpt`, with our configs embedded so it loads alone."""
        path = Path(path)
        state = {k: v.detach().contiguous().cpu() for k, v in self.compvis_state_dict().items()}
        configs_json = self.configs().to_json()
        with atomic_path(path) as tmp:
            if path.suffix == ".safetensors":
                save_file(state, str(tmp), metadata={CONFIG_METADATA_KEY: configs_json})
            elif path.suffix == ".ckpt":
                torch.save({"state_dict": state, CONFIG_METADATA_KEY: configs_json}, tmp)
            else:
                raise ValueError(f"single-file checkpoints end in .safetensors or .ckpt, got {path.name}")
        return path

    def save_diffusers(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write a diffusers folder that both our loader and `StableDiffusionPipeline.from_pretrained` read.

        An existing folder is replaced only if it is a diffusers output of ours and `overwrite` is set."""
        # no "Writing model shards" bar for a text encoder of one shard
        with quiet(bars=True), output_dir(folder, "diffusers", overwrite=overwrite) as staging:
            self.unet.save_pretrained(staging / "unet")
            self.vae.save_pretrained(staging / "vae")
            self.text_encoder.save_pretrained(staging / "text_encoder")
            self.tokenizer.save_pretrained(staging / "tokenizer")
            (staging / "scheduler").mkdir()
            scheduler = {"_class_name": "PNDMScheduler", **self.scheduler_config}
            (staging / "scheduler" / "scheduler_config.json").write_text(json.dumps(scheduler, indent=2))
            (staging / "model_index.json").write_text(json.dumps(MODEL_INDEX, indent=2))
        return Path(folder)
