import pytest
import yaml


@pytest.fixture(scope="session")
def shards(tmp_path_factory):
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    root = tmp_path_factory.mktemp("train-data")
    files = collection_files(make_artists(3), SUBJECTS[:3], per_pair=2, size=64, broken=True)
    source = write_collection(files, root / "wikiart")
    write_shards(str(source), root / "shards", ShardSettings(size=32, shard_size=8), workers=0, progress=False)
    return root


@pytest.fixture
def make_config(tmp_path, tiny_dir, shards):
    def make(**overrides):
        data = {"model": str(tiny_dir / "tiny.safetensors"), "data": str(shards / "shards"),
                "output_dir": str(tmp_path / "run"), "resolution": 32, "batch_size": 2, "max_steps": 4,
                "learning_rate": 1e-3, "checkpoint_every": 2, "validate_every": 100, "validation_steps": 2,
                "num_workers": 0, "export": False, **overrides}
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(data))
        return path
    return make
