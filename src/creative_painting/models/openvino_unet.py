"""`--backend openvino`: the U-Net compiled by OpenVINO for the CPU, in place of eager PyTorch.

The U-Net is converted once (about 30 s at SD v1 size) to OpenVINO's IR, saved in the user cache under a key
made of its weights, its config and OpenVINO's version, and compiled from there on later runs (seconds). On a
CPU with native bf16, OpenVINO runs it in bf16; `precision="f32"` keeps fp32. Measured at full SD v1 size on
this project's CPU: docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import torch

logger = logging.getLogger(__name__)
PRECISIONS = {torch.float32: "f32", torch.bfloat16: "bf16"}


class _Forward(torch.nn.Module):
    """The positional signature OpenVINO traces: (latents, timesteps per image, text embeddings)."""

    def __init__(self, unet: torch.nn.Module):
        super().__init__()
        self.unet = unet

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return self.unet(sample, timestep, encoder_hidden_states=context, return_dict=False)[0]


class OpenVINOUNet:
    """Called as diffusers' U-Net is by the sampler (`unet(x, t, encoder_hidden_states=c, return_dict=False)`)."""

    dtype = torch.float32  # what it takes and returns; OpenVINO picks its inner precision

    def __init__(self, compiled, precision: str):
        self.precision = precision
        self._request = compiled.create_infer_request()

    def __call__(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor,
                 return_dict: bool = False) -> tuple[torch.Tensor]:
        batch = sample.shape[0]
        steps = np.broadcast_to(np.asarray(timestep.detach().cpu(), dtype=np.int64).reshape(-1), (batch,))
        self._request.infer({0: sample.detach().float().cpu().numpy(), 1: np.ascontiguousarray(steps),
                             2: encoder_hidden_states.detach().float().cpu().numpy()})
        out = torch.from_numpy(self._request.get_output_tensor(0).data.copy())
        return (out.to(sample.device),)


def weights_key(unet: torch.nn.Module) -> str:
    """What the cached IR depends on: every weight, the config, and the OpenVINO version."""
    import openvino

    digest = hashlib.sha256(json.dumps(dict(unet.config), sort_keys=True, default=str).encode())
    digest.update(openvino.get_version().encode())
    for name, tensor in sorted(unet.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def compile_unet(unet: torch.nn.Module, precision: str = "bf16") -> OpenVINOUNet:
    """The U-Net as an OpenVINO model, converted once per set of weights and compiled for the CPU. `place` gives
    it an fp32 U-Net on the CPU; `check_backend` found OpenVINO installed, before anything loaded."""
    import openvino as ov

    from creative_painting.cache import cache_dir
    from creative_painting.files import atomic_dir

    folder = cache_dir() / "openvino" / weights_key(unet)
    if not (folder / "unet.xml").is_file():
        logger.warning("converting the U-Net to OpenVINO, once for these weights (about 30 s at SD v1 size)")
        channels, size = unet.config.in_channels, unet.config.sample_size
        example = (torch.randn(2, channels, size, size), torch.tensor([1, 1]),
                   torch.randn(2, 77, unet.config.cross_attention_dim))
        with torch.no_grad(), atomic_dir(folder) as tmp:
            model = ov.convert_model(_Forward(unet.eval()), example_input=example)
            ov.save_model(model, tmp / "unet.xml", compress_to_fp16=False)
    core = ov.Core()
    # As many threads as torch uses here: a Ray CPU actor's share, or the whole machine.
    config = {"INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": torch.get_num_threads()}
    compiled = core.compile_model(core.read_model(folder / "unet.xml"), "CPU", config)
    return OpenVINOUNet(compiled, precision)
