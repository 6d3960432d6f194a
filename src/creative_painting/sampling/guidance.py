"""The model adapter: an epsilon-predicting U-Net plus classifier-free guidance as one `denoise(x, t)`.

Samplers and the paint loop only see that function (the k-diffusion shape).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def guided_denoiser(unet: torch.nn.Module, cond: torch.Tensor, uncond: torch.Tensor | None, scale: float,
                    graphs: Callable | None = None) -> Denoiser:
    """eps = eps(x, t, {}) + s * (eps(x, t, c) - eps(x, t, {})), Ho & Salimans 2022, Eq. 6.

    With `scale == 1` or no unconditional embedding, one U-Net call per step instead of two. `graphs`
    (`models.graphs.CudaGraphs`): the same function replayed as a CUDA graph, keyed by the scale it bakes in.
    """
    dtype = getattr(unet, "dtype", cond.dtype)  # a bf16 U-Net on the CPU gets fp32 latents: cast in and back
    guided = uncond is not None and scale != 1.0
    context = (torch.cat([uncond, cond]) if guided else cond).to(dtype)

    def eps(x: torch.Tensor, t: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        if not guided:
            return unet(x.to(dtype), t, encoder_hidden_states=context, return_dict=False)[0].to(x.dtype)
        out = unet(torch.cat([x, x]).to(dtype), t, encoder_hidden_states=context, return_dict=False)[0]
        eps_uncond, eps_cond = out.to(x.dtype).chunk(2)
        return eps_uncond + scale * (eps_cond - eps_uncond)

    if graphs is None:
        return lambda x, t: eps(x, t, context)
    key = ("guided", scale) if guided else "unguided"
    return lambda x, t: graphs(key, eps, x, t, context)
