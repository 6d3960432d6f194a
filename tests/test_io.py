"""Atomic outputs: a failure half-way leaves the old output (or nothing), never a partial one."""

import pytest

from creative_painting.io import atomic_dir, atomic_path


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_dir_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(RuntimeError), atomic_dir(target) as staging:
        (staging / "a.bin").write_bytes(b"1")
        raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with atomic_dir(target) as staging:
        (staging / "a.bin").write_bytes(b"1")
    assert [p.name for p in target.iterdir()] == ["a.bin"]


def test_atomic_dir_replaces_or_keeps_what_is_there(tmp_path):
    target = tmp_path / "index"
    target.mkdir()
    (target / "first").write_text("1")
    with atomic_dir(target, replace=False) as staging:  # another process finished first: keep its result
        (staging / "second").write_text("2")
    assert [p.name for p in target.iterdir()] == ["first"]
    with atomic_dir(target) as staging:
        (staging / "second").write_text("2")
    assert [p.name for p in target.iterdir()] == ["second"]
    assert [p.name for p in tmp_path.iterdir()] == ["index"]
