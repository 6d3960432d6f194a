"""Every flag explains itself: a help line, and its default where it has one; the job file's keys are documented."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from creative_painting.batch.job import BatchJob
from creative_painting.cli.main import build_parser, leaf_parsers

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_option_of_every_command_has_help_and_shows_its_default():
    missing, undefaulted = [], []
    for path, leaf in leaf_parsers(build_parser()).items():
        text = leaf.format_help()
        for action in leaf._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            name = action.option_strings[0] if action.option_strings else action.dest
            if not action.help:
                missing.append(f"{path} {name}")
            # a default appears in the help text: written by hand or appended by HelpFormatter
            elif (action.default not in (None, False, [], "") and action.option_strings
                  and f"default: {action.default}" not in " ".join(text.split()) and "default" not in action.help):
                undefaulted.append(f"{path} {name}")
    assert not missing and not undefaulted, (missing, undefaulted)


def test_the_top_level_help_speaks_to_users():
    text = " ".join(build_parser().format_help().split())
    assert "Stable Diffusion" in text and "subcommand lives" not in text


def test_every_job_file_key_is_in_docs_batch_md():
    page = (DOCS / "batch.md").read_text()
    assert "creative_painting/batch/job.py" not in page
    assert not [f.name for f in dataclasses.fields(BatchJob) if f"`{f.name}`" not in page]
