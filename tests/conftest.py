"""Shared fixtures: one tiny random SD model, written once per session in every real format."""

from __future__ import annotations

import os
from pathlib import Path

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


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(name: str) -> Path:
    """A folder of ../shared/data (real WikiArt lists, PartiPrompts). Skipped where it is absent, but
    under CI=true a missing folder fails the test: CI must never pass by skipping the real-data checks."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        message = f"needs {folder} (../shared beside the checkout)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + "; CI=true, so this is a failure, not a skip")
        pytest.skip(message)
    return folder


@pytest.fixture
def real_lists() -> Path:
    return shared_data("wikiart-metadata")
