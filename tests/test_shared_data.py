"""The real-data tests may skip on a laptop without ../shared, never in CI."""

import pytest

import tests.conftest as conftest


def test_missing_shared_data_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path / "nowhere")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        conftest.shared_data("wikiart-metadata")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        conftest.shared_data("wikiart-metadata")


def test_shared_data_is_found_beside_the_checkout_when_present(monkeypatch, tmp_path):
    (tmp_path / "wikiart-metadata").mkdir()
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert conftest.shared_data("wikiart-metadata") == tmp_path / "wikiart-metadata"
