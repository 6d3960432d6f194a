"""What a recipe setting does to the trained model, recomputed here from its definition.

Each test would pass on code that merely runs; each fails when its setting is ignored or inverted:
Min-SNR weighting, the EMA update and its decay schedule, the text encoder's learning rate, the warm-up,
gradient accumulation, caption dropout and artist balancing.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from creative_painting.models import load_model
from creative_painting.training.config import load_config
from creative_painting.training.trainer import train

GAMMA = 5.0


def _sd_scheduler(prediction_type: str = "epsilon"):
    from diffusers import DDPMScheduler

    return DDPMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                         num_train_timesteps=1000, prediction_type=prediction_type)


def _snr_by_hand(t: torch.Tensor) -> torch.Tensor:
    """SNR(t) = alpha_bar / (1 - alpha_bar), from SD v1's betas written out here (not the scheduler's)."""
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    alpha_bar = torch.cumprod(1 - betas, 0)[t]
    return alpha_bar / (1 - alpha_bar)


def _timesteps_around_gamma() -> torch.Tensor:
    snr = _snr_by_hand(torch.arange(1000))
    crossing = int((snr < GAMMA).nonzero()[0])  # the first t with SNR below gamma
    return torch.tensor([0, 10, crossing - 2, crossing - 1, crossing, crossing + 1, 500, 999])


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_min_snr_weights_follow_their_definition(prediction_type):
    from creative_painting.training.loss import min_snr_weights

    t = _timesteps_around_gamma()
    snr = _snr_by_hand(t)
    expected = torch.minimum(snr, torch.tensor(GAMMA, dtype=torch.float64)) / snr
    if prediction_type == "v_prediction":
        expected = expected * snr / (snr + 1)
    got = min_snr_weights(_sd_scheduler(prediction_type), t, GAMMA).double()
    assert (snr[:4] > GAMMA).all() and (snr[4:] < GAMMA).all()  # both sides of SNR = gamma are covered
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=0)  # fp32 against fp64
    assert (got <= 1 + 1e-6).all() and got[0] < 0.01


class _Recorder:
    """Delegates to the real scheduler or U-Net, and keeps what the loss gave them."""

    def __init__(self, inner=None):
        self.inner, self.seen = inner, {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def add_noise(self, latents, noise, timesteps):
        self.seen.update(noise=noise.clone(), timesteps=timesteps.clone())
        return self.inner.add_noise(latents, noise, timesteps)

    def __call__(self, noisy, timesteps, hidden, return_dict=False):
        pred = 0.5 * noisy  # any fixed function of the input: each sample gets its own error
        self.seen.update(pred=pred.clone(), timesteps=timesteps.clone())
        return (pred,)


def test_the_loss_weights_each_sample_by_min_snr(tiny_dir):
    from creative_painting.training.loss import diffusion_loss

    model = load_model(str(tiny_dir / "tiny.safetensors"))
    latents = torch.randn(16, 2 * model.unet.config.in_channels, 4, 4, generator=torch.Generator().manual_seed(0))
    batch = {"x": latents, "kind": "latent", "captions": ["a painting"] * 16}

    def loss(gamma: float):
        scheduler, unet = _Recorder(_sd_scheduler()), _Recorder()
        value = diffusion_loss(batch, unet=unet, text_encoder=model.text_encoder, vae=model.vae,
                               tokenizer=model.tokenizer, noise_scheduler=scheduler, scaling_factor=0.18215,
                               snr_gamma=gamma, generator=torch.Generator().manual_seed(1), device=torch.device("cpu"))
        return value, scheduler.seen, unet.seen

    plain, seen, predicted = loss(0.0)
    weighted, _, _ = loss(GAMMA)
    t = seen["timesteps"]
    assert torch.equal(predicted["timesteps"], t)
    per_sample = ((predicted["pred"] - seen["noise"]) ** 2).mean(dim=(1, 2, 3)).double()
    snr = _snr_by_hand(t)
    weights = torch.minimum(snr, torch.tensor(GAMMA, dtype=torch.float64)) / snr
    assert (snr > GAMMA).any() and (snr < GAMMA).any()
    assert plain.item() == pytest.approx(per_sample.mean().item(), rel=1e-5)
    assert weighted.item() == pytest.approx((weights * per_sample).mean().item(), rel=1e-5)
    assert weighted < plain


def test_the_trainer_reports_the_weighted_loss(make_config, tmp_path):
    """Same seed, same first batch and noise: Min-SNR weights (all at most 1) lower the first step's loss."""
    common = {"max_steps": 1, "batch_size": 8}  # at batch 8 the first step draws timesteps on both sides of gamma
    plain = train(load_config(make_config(output_dir=str(tmp_path / "a"), **common)), progress=False)
    weighted = train(load_config(make_config(snr_gamma=GAMMA, output_dir=str(tmp_path / "b"), **common)),
                     progress=False)
    assert weighted["losses"][1] < 0.999 * plain["losses"][1]


def _ema_decay(step: int, cap: float) -> float:
    """diffusers' EMAModel without warm-up: 0 at the first update, then (1 + s) / (10 + s), capped."""
    s = step - 1
    return 0.0 if s <= 0 else min(cap, (1 + s) / (10 + s))


def test_exported_ema_weights_are_the_average_of_every_steps_weights(make_config, tmp_path, tiny_dir):
    """The raw U-Net after each step comes from that step's checkpoint; the EMA is computed here from them."""
    cap = 0.2  # reached at the third update: both the schedule and the cap are exercised
    cfg = make_config(stage=2, max_steps=4, ema_decay=cap, export=True, checkpoint_every=1, keep_checkpoints=10)
    summary = train(load_config(cfg), progress=False)
    checkpoints = tmp_path / "run" / "checkpoints"
    raw = [load_file(str(checkpoints / f"step-{k}" / "model_1.safetensors")) for k in range(1, 5)]  # the U-Net
    ema = {name: tensor.clone().double() for name, tensor in raw[0].items()}
    for step, weights in enumerate(raw[1:], start=2):
        decay = _ema_decay(step, cap)
        for name, tensor in weights.items():
            ema[name] = decay * ema[name] + (1 - decay) * tensor.double()
    assert [_ema_decay(k, cap) for k in (1, 2, 3, 4)] == [0.0, pytest.approx(2 / 11), 0.2, 0.2]
    exported = load_model(summary["exported"]["single_file"]).unet.state_dict()
    initial = load_model(str(tiny_dir / "tiny.safetensors")).unet.state_dict()
    gap = max((exported[k].double() - ema[k]).abs().max().item() for k in ema)
    assert gap < 1e-6
    moved = [k for k in ema if not torch.equal(initial[k], raw[-1][k])]
    assert len(moved) > 10
    assert all(not torch.allclose(exported[k], raw[-1][k], atol=1e-7) for k in moved[:10])  # not the final weights
    assert all(not torch.allclose(exported[k], initial[k], atol=1e-7) for k in moved[:10])  # not the start


def _change(a: dict, b: dict) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


def test_the_text_encoder_learns_at_its_own_rate(make_config, tmp_path, tiny_dir):
    base = load_model(str(tiny_dir / "tiny.safetensors"))
    changes = {}
    for name, te_lr in (("slow", 1e-12), ("fast", 1e-3)):
        cfg = make_config(stage=2, max_steps=2, export=True, learning_rate=1e-3, text_encoder_learning_rate=te_lr,
                          output_dir=str(tmp_path / name))
        trained = load_model(train(load_config(cfg), progress=False)["exported"]["single_file"])
        changes[name] = (_change(base.text_encoder.state_dict(), trained.text_encoder.state_dict()),
                         _change(base.unet.state_dict(), trained.unet.state_dict()))
    assert changes["slow"][0] < 1e-9 and changes["slow"][1] > 1e-4  # the U-Net trains at learning_rate all the same
    assert changes["fast"][0] > 1e-4


def test_warmup_starts_at_a_learning_rate_of_zero(make_config, tmp_path, tiny_dir):
    """constant_with_warmup: lr * step / warmup_steps, so the first update changes nothing."""
    base = load_model(str(tiny_dir / "tiny.safetensors"))
    moved = {}
    for warmup in (0, 4):
        cfg = make_config(stage=2, max_steps=1, export=True, warmup_steps=warmup, output_dir=str(tmp_path / str(warmup)))
        trained = load_model(train(load_config(cfg), progress=False)["exported"]["single_file"])
        moved[warmup] = _change(base.unet.state_dict(), trained.unet.state_dict())
    assert moved[4] == 0.0 and moved[0] > 1e-4


def test_gradient_accumulation_steps_once_per_accumulated_batch(make_config, tmp_path):
    """Two micro-batches of 1 make one step, whose loss is their mean (measured at a learning rate of ~0,
    where the weights do not move between the two)."""
    still = {"learning_rate": 1e-12, "batch_size": 1}
    single = train(load_config(make_config(max_steps=2, output_dir=str(tmp_path / "a"), **still)), progress=False)
    accumulated = train(load_config(make_config(max_steps=1, gradient_accumulation_steps=2,
                                                output_dir=str(tmp_path / "b"), **still)), progress=False)
    assert list(accumulated["losses"]) == [1]
    mean = (single["losses"][1] + single["losses"][2]) / 2
    assert single["losses"][1] != pytest.approx(single["losses"][2], rel=1e-3)
    assert accumulated["losses"][1] == pytest.approx(mean, rel=1e-5)


def _latent_items(artists: list[str]):
    from creative_painting.training.data import Item
    from creative_painting.wikiart.names import Artwork

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((8, 4, 4), dtype=np.float32))
    payload = buffer.getvalue()
    return [Item(Artwork(path=f"Impressionism/{slug}_work-{i}.jpg", style_folder="Impressionism", artist_slug=slug,
                         title=f"work {i}", year=None, genre=None), lambda: payload, "latent")
            for i, slug in enumerate(artists)]


def test_the_trainer_drops_captions_and_balances_artists_as_configured(make_config):
    from creative_painting.training.trainer import step_batches

    items = _latent_items(["claude-monet"] * 30 + ["mary-cassatt"] * 10)  # 3:1
    rates = {}
    for dropout, balance in ((0.0, 0.0), (0.5, 1.0)):
        cfg = load_config(make_config(batch_size=4, max_steps=400, caption_dropout=dropout, balance=balance))
        batches = step_batches(cfg, items)
        captions = [c for k in range(len(batches)) for c in batches[k]["captions"]]
        kept = [c for c in captions if c]
        rates[dropout, balance] = (1 - len(kept) / len(captions),
                                   sum("Mary Cassatt" in c for c in kept) / len(kept))
    assert rates[0.0, 0.0][0] == 0.0 and rates[0.0, 0.0][1] == pytest.approx(0.25, abs=0.03)
    assert rates[0.5, 1.0][0] == pytest.approx(0.5, abs=0.04)
    assert rates[0.5, 1.0][1] == pytest.approx(0.5, abs=0.05)  # balance 1: each artist equally often
