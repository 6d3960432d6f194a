"""Samplers against closed forms on Gaussian data, whose exact noise predictor is known.

For x0 ~ N(mu, s^2), x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps has
E[eps | x_t] = sqrt(1 - a_t) (x_t - sqrt(a_t) mu) / (a_t s^2 + 1 - a_t).
"""

import numpy as np
import pytest
import torch

from creative_painting.errors import UserError
from creative_painting.models.configs import bundled_configs
from creative_painting.sampling import PRESETS, SAMPLERS, SamplingSettings, get_sampler, sample

MU, S = 0.5, 0.3
# diffusers applies float32 schedule coefficients; a wrong coefficient is off by ~1e-2.
FLOAT32_COEFFICIENTS = {"rtol": 1e-5, "atol": 1e-6}
SCHEDULE = {k: v for k, v in bundled_configs().scheduler.items() if not k.startswith("_")}


def alphas_cumprod() -> torch.Tensor:
    """SD v1's scaled-linear schedule, computed in float32 as diffusers and CompVis keep it."""
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float32) ** 2
    return torch.cumprod(1 - betas, 0).double()


def exact_eps(x: torch.Tensor, t) -> torch.Tensor:
    a = alphas_cumprod()[int(t)].to(x.dtype)
    return (1 - a).sqrt() * (x - a.sqrt() * MU) / (a * S**2 + 1 - a)


def compvis_timesteps(steps: int) -> list[int]:
    """CompVis make_ddim_timesteps('uniform') with the +1 offset, newest first."""
    return [t + 1 for t in range(0, 1000, 1000 // steps)][::-1]


def ddim_step(x, eps, t, t_prev, eta, noise):
    """DDIM, Song et al. 2021, Eq. 12 (alpha_prev of the last step is alphas_cumprod[0], as CompVis)."""
    ac = alphas_cumprod().to(x.dtype)
    a, a_prev = ac[t], ac[t_prev] if t_prev >= 0 else ac[0]
    sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)).sqrt()
    x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
    return a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).sqrt() * eps + sigma * noise


def reference_ddim(x, steps, eta, generator):
    ts = compvis_timesteps(steps)
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if eta > 0 else 0.0
        x = ddim_step(x, exact_eps(x, t), t, t_prev, eta, noise)
    return x


def reference_plms(x, steps):
    """CompVis p_sample_plms: pseudo improved Euler on the first step, then Adams-Bashforth 2/3/4."""
    ts = compvis_timesteps(steps)
    old = []
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        e = exact_eps(x, t)
        if not old:
            x_next = ddim_step(x, e, t, t_prev, 0.0, 0.0)
            e_prime = (e + exact_eps(x_next, t_prev if t_prev >= 0 else t)) / 2
        elif len(old) == 1:
            e_prime = (3 * e - old[-1]) / 2
        elif len(old) == 2:
            e_prime = (23 * e - 16 * old[-1] + 5 * old[-2]) / 12
        else:
            e_prime = (55 * e - 59 * old[-1] + 37 * old[-2] - 9 * old[-3]) / 24
        x = ddim_step(x, e_prime, t, t_prev, 0.0, 0.0)
        old.append(e)
    return x


def run(name, noise, steps, eta=None, seed=0):
    spec = get_sampler(name)
    generator = torch.Generator().manual_seed(seed)
    return sample(exact_eps, spec.make(SCHEDULE), spec, noise, steps, eta=eta, generator=generator)


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_follows_eq12_step_for_step(eta):
    noise = torch.randn(64, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ours = run("ddim", noise, 10, eta=eta, seed=7)
    reference = reference_ddim(noise, 10, eta, torch.Generator().manual_seed(7))
    torch.testing.assert_close(ours, reference, **FLOAT32_COEFFICIENTS)


def test_plms_is_compvis_algorithm_1():
    noise = torch.randn(64, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(run("plms", noise, 10), reference_plms(noise, 10), **FLOAT32_COEFFICIENTS)


def test_plms_calls_the_model_twice_on_its_first_step():
    calls = []
    spec = get_sampler("plms")

    def counting(x, t):
        calls.append(int(t))
        return exact_eps(x, t)

    sample(counting, spec.make(SCHEDULE), spec, torch.zeros(4, dtype=torch.float64), 10)
    assert len(calls) == 11 and calls[:3] == [901, 801, 801]


def stats(name, steps, eta=None):
    noise = torch.randn(10_000, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    x = run(name, noise, steps, eta=eta)
    return x.mean().item(), x.std().item()


# Relative error allowed on the standard deviation. First-order ancestral samplers (DDPM's
# posterior variance, DDIM eta=1, Euler ancestral) under-disperse non-point data on coarse grids
# (-5 % at 200 steps here), so they are checked at 999 steps; few-step multistep solvers denoise
# to sigma=0 on their last step, which shrinks the variance (-8 % at 50 steps).
@pytest.mark.parametrize(("name", "steps", "eta", "tolerance"), [
    ("ddim", 200, 0.0, 0.02), ("plms", 50, None, 0.01), ("ddim", 999, 1.0, 0.02), ("ddpm", 999, None, 0.03),
    ("euler-a", 999, None, 0.03), ("dpmpp-2m", 50, None, 0.10), ("unipc", 50, None, 0.10),
])
def test_samples_have_the_data_mean_and_variance(name, steps, eta, tolerance):
    mean, std = stats(name, steps, eta)
    # Starting from N(0, 1) instead of the true x_T marginal (mean sqrt(a_T) mu) shifts an exact
    # ODE solution's mean by -s sqrt(a_T) mu / sigma_T, about -0.011 here.
    assert abs(mean - MU) < 0.015, name
    assert abs(std / S - 1) < tolerance, (name, std)


@pytest.mark.parametrize(("name", "eta"), [("ddpm", None), ("ddim", 1.0), ("euler-a", None)])
def test_ancestral_samplers_converge_with_more_steps(name, eta):
    errors = [abs(stats(name, steps, eta)[1] / S - 1) for steps in (50, 200, 999)]
    assert errors[0] > errors[1] > errors[2], errors


def test_every_sampler_is_registered_with_a_description():
    assert set(SAMPLERS) == {"ddpm", "ddim", "plms", "dpmpp-2m", "euler-a", "unipc"}
    assert all(spec.about for spec in SAMPLERS.values())


def test_ddim_eta_zero_is_deterministic_and_eta_one_is_not():
    noise = torch.randn(16, dtype=torch.float64)
    assert torch.equal(run("ddim", noise, 10, 0.0, seed=1), run("ddim", noise, 10, 0.0, seed=2))
    assert not torch.equal(run("ddim", noise, 10, 1.0, seed=1), run("ddim", noise, 10, 1.0, seed=2))
    assert torch.equal(run("ddim", noise, 10, 1.0, seed=1), run("ddim", noise, 10, 1.0, seed=1))


def test_paper_preset():
    assert PRESETS["paper"] == SamplingSettings("ddim", 200, 5.0, 1.0, 512, 512)


@pytest.mark.parametrize(("settings", "message"), [
    (SamplingSettings(width=65), "width must be a positive multiple of 8, got 65"),
    (SamplingSettings(height=0), "height must be a positive multiple of 8"),
    (SamplingSettings(steps=0), "steps must be at least 1"),
    (SamplingSettings(steps=1000), "at most 999 steps"),
    (SamplingSettings(sampler="heun"), "unknown sampler 'heun'"),
    (SamplingSettings(sampler="plms", eta=1.0), "ddim_eta must be 0 for PLMS"),
    (SamplingSettings(eta=-1.0), "eta must be >= 0"),
    (SamplingSettings(scale=-1.0), "guidance scale"),
    (SamplingSettings(scale=float("nan")), "scale must be a finite number"),  # a script's, which no flag checked
    (SamplingSettings(eta=float("inf")), "eta must be a finite number"),
])
def test_bad_settings_are_user_errors(settings, message):
    with pytest.raises(UserError, match=message):
        settings.validate()


def test_overrides_drop_the_presets_eta_for_samplers_without_one():
    settings = PRESETS["paper"].with_overrides(sampler="plms", steps=None)
    assert settings.eta is None and settings.steps == 200
    assert PRESETS["paper"].with_overrides(eta=0.0).eta == 0.0


def test_gaussian_reference_itself_is_right():
    """Sanity check of the closed form: the exact predictor is unbiased for simulated x_t."""
    g = torch.Generator().manual_seed(0)
    x0 = MU + S * torch.randn(200_000, dtype=torch.float64, generator=g)
    eps = torch.randn(200_000, dtype=torch.float64, generator=g)
    a = alphas_cumprod()[500]
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    residual = eps - exact_eps(xt, 500)
    assert abs(residual.mean().item()) < 0.01
    assert np.isclose((residual * xt).mean().item(), 0, atol=0.01)  # orthogonal to x_t: the MMSE estimator
