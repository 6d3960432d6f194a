"""Shared fixtures: one tiny random SD model, written once per session in every real format."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    from creative_painting.models import write_tiny

    folder = tmp_path_factory.mktemp("tiny")
    write_tiny(folder, seed=0)
    return folder


@pytest.fixture(scope="session")
def tiny_model():
    from creative_painting.models import make_tiny_model

    return make_tiny_model(seed=0)


@pytest.fixture(autouse=True)
def _work_in_a_fresh_folder(tmp_path, monkeypatch):
    """Default outputs (`paint --out paintings`) land in the test's own folder, never in the checkout."""
    monkeypatch.chdir(tmp_path)
