"""Sampling settings, their validation, and named presets (the paper's among them)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from creative_painting.errors import UserError
from creative_painting.sampling.samplers import get_sampler

MAX_STEPS = 999
# SD v1 paints 512 px; 2048 x 2048 (64x the latent cells) already needs ~10 GB for the VAE decode.
MAX_SIDE = 4096
MAX_PIXELS = 2048 * 2048


@dataclass(frozen=True)
class SamplingSettings:
    """The defaults are the paper's: DDIM with eta=1.0, 200 steps, 512x512, guidance scale 5.0."""

    sampler: str = "ddim"
    steps: int = 200
    scale: float = 5.0
    eta: float | None = 1.0
    width: int = 512
    height: int = 512

    def validate(self) -> SamplingSettings:
        sampler = get_sampler(self.sampler)
        if self.steps < 1:
            raise UserError(f"steps must be at least 1, got {self.steps}")
        if self.steps > MAX_STEPS:
            raise UserError(f"at most {MAX_STEPS} steps (1000 training timesteps and CompVis' +1 offset), got {self.steps}")
        for side in ("width", "height"):
            value = getattr(self, side)
            if value < 8 or value % 8:
                raise UserError(f"{side} must be a positive multiple of 8, got {value}")
            if value > MAX_SIDE:
                raise UserError(f"{side} must be at most {MAX_SIDE}, got {value}")
        if self.width * self.height > MAX_PIXELS:
            raise UserError(f"{self.width}x{self.height} is more than {MAX_PIXELS:,} pixels (2048x2048), "
                            "which the VAE decode cannot hold; paint smaller and upscale")
        for name in ("scale", "eta"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise UserError(f"{name} must be a finite number, got {value}")
        if self.scale < 0:
            raise UserError(f"guidance scale must be >= 0, got {self.scale}")
        if self.eta is not None and not sampler.takes_eta:
            hint = " (CompVis: ddim_eta must be 0 for PLMS)" if self.sampler == "plms" else ""
            raise UserError(f"eta applies to ddim only, not {self.sampler}{hint}")
        if self.eta is not None and self.eta < 0:
            raise UserError(f"eta must be >= 0, got {self.eta}")
        return self

    def with_overrides(self, **overrides) -> SamplingSettings:
        """Apply the non-None overrides; a new sampler that takes no eta drops the preset's eta."""
        overrides = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(self, **overrides)
        if "eta" not in overrides and not get_sampler(settings.sampler).takes_eta:
            settings = replace(settings, eta=None)
        return settings


PRESETS: dict[str, SamplingSettings] = {
    "paper": SamplingSettings(),
    "fast": SamplingSettings("dpmpp-2m", 25, eta=None),  # the same model and guidance, ~8x fewer U-Net calls
}


OVERRIDES = ("sampler", "steps", "scale", "eta", "width", "height")

