"""The model adapter: an epsilon-predicting U-Net plus classifier-free guidance as one `denoise(x, t)`.

Samplers and the paint loop only see that function (the k-diffusion shape).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def guided_denoiser(unet: torch.nn.Module, cond: torch.Tensor, uncond: torch.Tensor | None, scale: float) -> Denoiser:
    """eps = eps(x, t, {}) + s * (eps(x, t, c) - eps(x, t, {})), Ho & Salimans 2022, Eq. 6.

    With `scale == 1` or no unconditional embedding, one U-Net call per step instead of two.
    """
    dtype = getattr(unet, "dtype", cond.dtype)  # a bf16 U-Net on the CPU gets fp32 latents: cast in and back
    if uncond is None or scale == 1.0:
        cond = cond.to(dtype)
        return lambda x, t: unet(x.to(dtype), t, encoder_hidden_states=cond, return_dict=False)[0].to(x.dtype)
    context = torch.cat([uncond, cond]).to(dtype)

    def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = unet(torch.cat([x, x]).to(dtype), t, encoder_hidden_states=context, return_dict=False)[0]
        eps_uncond, eps_cond = out.to(x.dtype).chunk(2)
        return eps_uncond + scale * (eps_cond - eps_uncond)

    return denoise
