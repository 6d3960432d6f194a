import io
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from creative_painting.training.data import StepBatches, open_items, to_pixels
from creative_painting.wikiart.synthetic import (
    SUBJECTS,
    collection_files,
    make_artists,
    write_collection,
    write_parquet,
)


def _batches(data: str) -> StepBatches:
    items, _ = open_items(data)
    return StepBatches(items, batch_size=4, seed=3, resolution=32, template=None, caption_dropout=0.0,
                       field_dropout=0.0)


def _same(a: dict, b: dict) -> bool:
    return a["captions"] == b["captions"] and torch.equal(a["x"], b["x"])


@pytest.fixture(scope="module")
def sources(tmp_path_factory, shards):
    root = tmp_path_factory.mktemp("sources")
    files = collection_files(make_artists(2), SUBJECTS[:2], per_pair=2, size=32)
    return {"shards": str(shards / "shards"),
            "folder": str(write_collection(files, root / "wikiart")),
            "tar": str(write_collection(files, root / "wikiart.tar", as_tar=True)),
            "parquet": str(write_parquet(files, root / "train.parquet"))}


@pytest.mark.parametrize("kind", ["shards", "folder", "tar", "parquet"])
def test_batches_of_every_source_survive_pickling(sources, kind):
    """Spawned loader workers (macOS, Windows, Linux from Python 3.14) get the dataset pickled."""
    batches = _batches(sources[kind])
    copy = pickle.loads(pickle.dumps(batches))
    assert all(_same(batches[k], copy[k]) for k in range(3))


def test_spawned_loader_workers_give_the_same_batches(sources):
    batches = _batches(sources["shards"])
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(batches, range(4)), batch_size=None,
                                         num_workers=1, multiprocessing_context="spawn")
    assert all(_same(batches[k], got) for k, got in enumerate(loader))


def _jpeg(size: tuple[int, int], mode: str = "RGB") -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(out, "JPEG")
    return out.getvalue()


def test_pixels_are_the_decoded_jpeg_when_already_at_size_and_fitted_otherwise():
    data = _jpeg((32, 32))
    decoded = torch.from_numpy(np.array(Image.open(io.BytesIO(data)).convert("RGB"))).permute(2, 0, 1)
    assert torch.equal(to_pixels(data, 32), decoded.float() / 127.5 - 1)  # no resampling at the stored size
    assert to_pixels(_jpeg((48, 32)), 32).shape == (3, 32, 32)
    assert to_pixels(_jpeg((32, 32), "L"), 32).shape == (3, 32, 32)  # grayscale and CMYK become RGB
    assert to_pixels(_jpeg((32, 32), "CMYK"), 32).shape == (3, 32, 32)
    assert to_pixels(b"not a picture", 32) is None
    assert to_pixels(_jpeg((32, 32))[:200], 32) is None  # truncated


def test_ranks_split_each_step_and_every_epoch_visits_each_item_once(sources):
    items, _ = open_items(sources["folder"])
    n = len(items)

    def rank(r: int) -> StepBatches:
        return StepBatches(items, batch_size=3, seed=1, resolution=32, template=None, caption_dropout=0.0,
                           field_dropout=0.0, rank=r, world_size=2)

    ranks = [rank(0), rank(1)]
    order = [i for step in range(4 * n) for b in ranks for i in b.indices(step)]  # 24 epochs
    epochs = [order[e * n : (e + 1) * n] for e in range(len(order) // n)]
    assert all(sorted(e) == list(range(n)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1  # a new order each epoch
    assert [rank(1).indices(step) for step in (9, 2)] == [ranks[1].indices(9), ranks[1].indices(2)]  # pure in step
