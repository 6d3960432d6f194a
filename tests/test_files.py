"""Atomic outputs: a failure half-way leaves the old output (or nothing), never a partial one."""

import os

import pytest

from creative_painting.files import atomic_dir, atomic_path


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


def test_outputs_follow_the_umask(tiny_model, tmp_path):
    """mkstemp/mkdtemp make 0600/0700; our outputs must be what a plain open() gives: group-readable at 022."""
    import stat

    from creative_painting.files import atomic_write_text
    from creative_painting.models import write_tiny
    from creative_painting.painting.session import paint_spec
    from creative_painting.painting.spec import PaintSpec
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        write_tiny(tmp_path / "tiny")
        spec = PaintSpec(("a",), ("b",), sampler="ddim", steps=1, scale=1.0, eta=0.0, width=32, height=32)
        paint_spec(tiny_model, spec.validate(), tmp_path / "paint", progress=False)
        files = collection_files(make_artists(1), SUBJECTS[:1], per_pair=2, size=64)
        write_shards(str(write_collection(files, tmp_path / "wa")), tmp_path / "shards",
                     ShardSettings(size=32, shard_size=1), workers=0, progress=False)
    finally:
        os.umask(old)
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")}
    assert modes["a.txt"] == 0o644 and modes["paint"] == 0o755 and modes["paint/grid.png"] == 0o644
    assert modes["tiny"] == 0o755 and modes["tiny/tiny.safetensors"] == 0o644
    assert modes["shards/shard-000000.tar"] == 0o644 and modes["shards/shards.json"] == 0o644
    wrong = {p: oct(m) for p, m in modes.items() if m not in (0o644, 0o755)}
    assert not wrong, wrong
