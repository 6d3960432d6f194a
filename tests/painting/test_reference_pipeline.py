"""`paint()` against diffusers' own StableDiffusionPipeline given the same components, seeds and settings.

An independent reference: a reversed guidance, a latent scaling multiplied instead of divided, a
noise drawn per batch instead of per seed, or a sampler misconfigured all make these fail.
"""

import numpy as np
import pytest
import torch

from creative_painting.painting import Cell, paint
from creative_painting.painting.painter import decode_latents
from creative_painting.sampling import SamplingSettings, get_sampler

CASES = [("ddim", 0.0), ("ddim", 1.0), ("plms", None), ("dpmpp-2m", None)]
CAPTIONS = ["a painting of a harbour by Claude Monet", "a painting of a city by Vincent van Gogh",
            "a painting of a rocket launch"]
NEGATIVE = "blurry, dark"


def reference_latents(model, jobs: list[Cell], settings: SamplingSettings) -> torch.Tensor:
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        vae=model.vae, text_encoder=model.text_encoder, tokenizer=model.tokenizer, unet=model.unet,
        scheduler=get_sampler(settings.sampler).make(model.scheduler_config),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    extra = {"eta": settings.eta} if settings.eta is not None else {}
    return pipe(
        [j.caption for j in jobs], negative_prompt=[j.negative for j in jobs], guidance_scale=settings.scale,
        num_inference_steps=settings.steps, height=settings.height, width=settings.width,
        generator=[torch.Generator("cpu").manual_seed(j.seed) for j in jobs], output_type="latent", **extra,
    ).images


def our_latents(model, jobs, settings, batch_size, monkeypatch) -> torch.Tensor:
    """Run the real `paint()` and keep the latents it hands to the decoder."""
    import creative_painting.painting.painter as painter

    captured = []

    def keep(model_, latents):
        captured.append(latents.clone())
        return decode_latents(model_, latents)

    monkeypatch.setattr(painter, "decode_latents", keep)
    images = paint(model, jobs, settings, batch_size=batch_size)
    return torch.cat(captured), images


@pytest.mark.parametrize(("sampler", "eta"), CASES)
@pytest.mark.parametrize("batch", [1, 3])
def test_paint_matches_the_diffusers_pipeline(tiny_model, monkeypatch, sampler, eta, batch):
    settings = SamplingSettings(sampler, 4, 5.0, eta, 64, 64)
    jobs = [Cell.single(caption, seed=10 + i, negative=NEGATIVE) for i, caption in enumerate(CAPTIONS[:batch])]
    ours, images = our_latents(tiny_model, jobs, settings, batch, monkeypatch)
    reference = reference_latents(tiny_model, jobs, settings)
    torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-5)

    # Decoded pixels: within one grey level of what the pipeline's image processor makes of its latents.
    with torch.inference_mode():
        decoded = tiny_model.vae.decode(reference / tiny_model.vae.config.scaling_factor).sample
    expected = ((decoded / 2 + 0.5).clamp(0, 1) * 255).round().permute(0, 2, 3, 1).numpy()
    got = np.stack([np.asarray(image, dtype=np.float64) for image in images])
    assert expected.std() > 5, "the reference image must not be flat, or the comparison proves nothing"
    assert np.abs(got - expected).max() <= 1


def test_guidance_is_eq6_with_the_conditional_term_ahead():
    """eps = eps_uncond + s (eps_cond - eps_uncond): a U-Net that returns its context's value shows each term."""
    from creative_painting.sampling import guided_denoiser

    class EchoContext(torch.nn.Module):
        def forward(self, x, t, encoder_hidden_states, return_dict=False):
            return (x * 0 + encoder_hidden_states.mean(dim=(1, 2)).view(-1, 1, 1, 1),)

    cond, uncond = torch.full((1, 77, 8), 3.0), torch.full((1, 77, 8), 1.0)
    x = torch.zeros(1, 4, 8, 8)
    for scale, expected in [(0.0, 1.0), (1.0, 3.0), (5.0, 11.0)]:
        eps = guided_denoiser(EchoContext(), cond, uncond, scale)(x, torch.tensor(10))
        assert torch.allclose(eps, torch.full_like(x, expected)), scale
