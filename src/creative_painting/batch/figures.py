"""The paper's experiments as batch jobs: Figure 3 from the WikiArt lists, Figures 4-12 painted.

Each painted figure is a batch job in its own folder, so `figures` resumes like `batch` does.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from creative_painting.batch.job import BatchJob

log = logging.getLogger(__name__)

# Figure 4: the text-to-image prompts of the latent diffusion paper (Rombach et al. 2022, Figure 5 there).
LDM_PROMPTS = [
    'A street sign that reads "Latent Diffusion"',
    "A zombie in the style of Picasso",
    "An image of an animal half mouse half octopus",
    "An illustration of a slightly conscious neural network",
    "A painting of a squirrel eating a burger",
    "A watercolor painting of a chair that looks like an octopus",
    'A shirt with the inscription: "I love generative models!"',
]
# Figures 5-12: the topic and the paper's three extensions of it.
TOPIC = "a painting of urbanization of china"
PAPER_EXTENSIONS = [
    "originally a collection of fishing villages, Shenzhen rapidly grew to be one of the largest cities in China",
    "a train runs on the snow-capped mountains of the Qinghai-Tibet Plateau",
    "left-behind children running in wheat-field",
]
FIGURE_5_8_ARTISTS = ["Vincent van Gogh", "Nicholas Roerich", "Pierre-Auguste Renoir", "Claude Monet"]
TEMPLATE = "{prompt}[ by {artist}]"  # the prompts are whole sentences already


def figure_jobs(base: BatchJob, wikiart: str | None, extensions: list[str] = ()) -> dict[str, BatchJob]:
    """Figure folder name -> job. Without WikiArt lists (for the top 30) only Figures 5-8 can be painted."""
    china = [TOPIC, *PAPER_EXTENSIONS, *extensions]
    common = dataclasses.replace(base, template=TEMPLATE, prompts_file=None, artists_file=None, wikiart=wikiart)
    jobs = {"figures-5-8": dataclasses.replace(common, prompts=china, artists=list(FIGURE_5_8_ARTISTS))}
    if wikiart:
        # Counted once here (a pass over 81k names), not again by every job that expands its cells.
        top30 = dataclasses.replace(common, artists=["top:30"]).artist_list()
        jobs["figure-4"] = dataclasses.replace(common, prompts=list(LDM_PROMPTS), artists=top30)
        jobs["figures-9-12"] = dataclasses.replace(common, prompts=china, artists=top30)
    return jobs


SKIPPED_WITHOUT_WIKIART = ("Figures 3, 4 and 9-12 skipped: they need WikiArt's artist counts; give --wikiart "
                           "(ArtGAN's style_train.csv,style_val.csv, a WikiArt folder or its tar)")


def make_figures(base: BatchJob, out: Path, *, wikiart: str | None, extensions: list[str] = (),
                 progress: bool = True, **where) -> dict[str, Any]:
    """Figure 3 (with WikiArt lists), then each painted figure as a batch job; `where`: run_batch's ray,
    actors and threads."""
    from creative_painting.batch.runner import run_batch
    from creative_painting.files import claim_output_file, claim_resumable_dir

    jobs = {name: (job, job.spec()) for name, job in figure_jobs(base, wikiart, extensions).items()}  # checked, once
    claim_resumable_dir(out, "figures")
    done: dict[str, Any] = {}
    if wikiart:
        from creative_painting.wikiart import collection_stats, iter_source, plot_top_artists

        figure3 = claim_output_file(out / "figure-3.png", overwrite=True)
        done["figure-3"] = str(plot_top_artists(collection_stats(iter_source(wikiart), top=30), figure3))
    else:
        done["skipped"] = SKIPPED_WITHOUT_WIKIART
        log.warning(SKIPPED_WITHOUT_WIKIART)
    for name, (job, spec) in jobs.items():
        done[name] = run_batch(job, out / name, progress=progress, spec=spec, **where)
    return done
