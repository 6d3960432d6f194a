import numpy as np
import pytest
import torch
from PIL import Image

from creative_painting.painting import Cell, make_grid, paint, read_png_metadata, save_png
from creative_painting.painting.session import paint_spec
from creative_painting.painting.spec import PaintSpec
from creative_painting.sampling import SamplingSettings

FAST = SamplingSettings("ddim", 3, 5.0, 1.0, 64, 64)
FAST_SPEC = {"sampler": "ddim", "steps": 3, "scale": 5.0, "eta": 1.0, "width": 64, "height": 64}


def pixels(image):
    return np.asarray(image, dtype=np.int16)


def test_same_seed_gives_bitwise_identical_images(tiny_model):
    jobs = [Cell.single("a painting of a harbour by Claude Monet", seed=3)]
    first, second = paint(tiny_model, jobs, FAST), paint(tiny_model, jobs, FAST)
    assert first[0].size == (64, 64)
    assert np.array_equal(pixels(first[0]), pixels(second[0]))


def test_other_seed_gives_another_image(tiny_model):
    a = paint(tiny_model, [Cell.single("x", seed=1)], FAST)[0]
    b = paint(tiny_model, [Cell.single("x", seed=2)], FAST)[0]
    assert np.abs(pixels(a) - pixels(b)).mean() > 1


def test_an_image_depends_on_its_seed_not_its_batch(tiny_model):
    jobs = [Cell.single("a", seed=5), Cell.single("b", seed=6), Cell.single("c", seed=7)]
    together = paint(tiny_model, jobs, FAST, batch_size=3)
    alone = paint(tiny_model, jobs[1:2], FAST)
    assert np.abs(pixels(together[1]) - pixels(alone[0])).max() <= 1  # batched matmuls may round differently


def test_guidance_scale_changes_the_image_and_scale_one_uses_one_call(tiny_model, monkeypatch):
    job = [Cell.single("a painting of a cat", seed=0)]
    a = paint(tiny_model, job, SamplingSettings("ddim", 3, 1.0, 0.0, 64, 64))[0]
    b = paint(tiny_model, job, SamplingSettings("ddim", 3, 9.0, 0.0, 64, 64))[0]
    assert not np.array_equal(pixels(a), pixels(b))
    batch_sizes = []
    original = tiny_model.unet.forward
    monkeypatch.setattr(tiny_model.unet, "forward", lambda x, *a, **k: batch_sizes.append(len(x)) or original(x, *a, **k))
    paint(tiny_model, job, SamplingSettings("ddim", 2, 1.0, 0.0, 64, 64))
    paint(tiny_model, job, SamplingSettings("ddim", 2, 5.0, 0.0, 64, 64))
    assert batch_sizes == [1, 1, 2, 2]


@pytest.mark.parametrize("sampler", ["ddpm", "plms", "dpmpp-2m", "euler-a", "unipc"])
def test_every_sampler_paints(tiny_model, sampler):
    (image,) = paint(tiny_model, [Cell.single("x", seed=0)], SamplingSettings(sampler, 3, 5.0, None, 64, 48))
    assert image.size == (64, 48) and pixels(image).std() > 0


def test_long_caption_warns_with_what_was_cut(tiny_model, caplog):
    paint(tiny_model, [Cell.single("word " * 80 + "zebra", seed=0)], SamplingSettings("ddim", 1, 1.0, 0.0, 64, 64))
    assert "CLIP reads 77" in caplog.text and "zebra" in caplog.text


def test_png_metadata_round_trips(tmp_path):
    path = save_png(Image.new("RGB", (8, 8)), tmp_path / "a.png", {"prompt": "x", "seed": 3, "eta": None})
    assert read_png_metadata(path) == {"prompt": "x", "seed": 3, "eta": None}
    assert Image.open(path).text["seed"] == "3"
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_grid_layout_and_labels_under_columns():
    red, blue = Image.new("RGB", (64, 64), "red"), Image.new("RGB", (64, 64), "blue")
    grid = make_grid([[red, blue], [blue, red]], ["Vincent van Gogh", "Claude Monet"], min_side=64)
    assert grid.width == 2 * 64 + 3 * 4
    array = pixels(grid)
    assert tuple(array[4 + 32, 4 + 32]) == (255, 0, 0) and tuple(array[4 + 32, 8 + 64 + 32]) == (0, 0, 255)
    label_band = array[4 + 64 + 2 : 4 + 64 + 14, 4 : 4 + 64]
    assert (label_band < 128).any(), "artist name is drawn under the first column"
    assert grid.height > 2 * 64 + 3 * 4  # room for the labels


def test_small_cells_are_enlarged_pixel_for_pixel_in_the_grid():
    cell = Image.new("RGB", (32, 32), "red")
    cell.putpixel((0, 0), (0, 0, 255))
    grid = pixels(make_grid([[cell]], min_side=128))
    assert grid.shape[:2] == (4 + 128 + 4, 4 + 128 + 4)
    assert (grid[4:8, 4:8] == (0, 0, 255)).all() and tuple(grid[8, 8]) == (255, 0, 0)  # 4x, nearest


def test_paint_spec_writes_images_grid_and_manifest(tiny_model, tmp_path):
    spec = PaintSpec(("a harbour", "a city"), ("Claude Monet", "Vincent van Gogh"), seed=11, **FAST_SPEC)
    result = paint_spec(tiny_model, spec.validate(), tmp_path, progress=False)
    assert [p.name.rsplit("-", 1)[0] for p in result.images] == [
        "p00000-a000-s00-claude-monet", "p00000-a001-s00-vincent-van-gogh", "p00001-a000-s00-claude-monet",
        "p00001-a001-s00-vincent-van-gogh"]
    meta = read_png_metadata(result.images[3])
    assert meta["caption"] == "a painting of a city by Vincent van Gogh" and meta["seed"] == 11
    assert (meta["sampler"], meta["steps"], meta["eta"], meta["scale"]) == ("ddim", 3, 1.0, 5.0)
    grid = Image.open(result.grid)
    assert 2 * 64 < grid.width < 2 * 256 and grid.height > 2 * 64  # the pictures as painted, not 256 px thumbnails
    # Same seed in every cell: the two artists of a row start from the same noise.
    assert torch.equal(torch.tensor(pixels(Image.open(result.images[0])).shape), torch.tensor([64, 64, 3]))


def test_grid_cells_share_their_initial_noise_and_differ_only_by_caption(tiny_model, tmp_path, monkeypatch):
    import creative_painting.painting.painter as painter

    seen = []

    def spy(model, jobs, settings):
        noise, generators = original(model, jobs, settings)
        seen.extend(zip([job.caption for job in jobs], noise.clone(), strict=True))
        return noise, generators

    original = painter.initial_noise
    monkeypatch.setattr(painter, "initial_noise", spy)
    spec = PaintSpec(("a harbour", "a city"), ("Claude Monet", "Vincent van Gogh", "Claude Monet"), seed=11,
                     batch_size=4, **FAST_SPEC)
    cells = spec.cells()
    result = paint_spec(tiny_model, spec.validate(), tmp_path, progress=False)
    assert [caption for caption, _ in seen] == [cell.caption for cell in cells]
    assert all(torch.equal(noise, seen[0][1]) for _, noise in seen), "every cell starts from the seed's noise"
    assert not torch.equal(seen[0][1], painter.initial_noise(tiny_model, [Cell.single("x", 12)], FAST)[0][0])
    # Same caption and seed (columns 0 and 2 of a row): identical pixels, also across batches.
    for row in (0, 1):
        a, b = (pixels(Image.open(result.images[row * 3 + col])) for col in (0, 2))
        assert np.array_equal(a, b)


def test_large_images_are_decoded_in_tiles_one_at_a_time(tiny_model, monkeypatch):
    from creative_painting.painting import painter

    settings = SamplingSettings("ddim", 2, 5.0, 0.0, 128, 128)
    jobs = [Cell.single("a harbour", seed=0), Cell.single("a city", seed=1)]
    whole = paint(tiny_model, jobs, settings, batch_size=2)
    tiled_calls = []
    original = tiny_model.vae.tiled_decode
    monkeypatch.setattr(tiny_model.vae, "tiled_decode", lambda z, *a, **k: tiled_calls.append(len(z)) or original(z, *a, **k))
    monkeypatch.setattr(painter, "VAE_TILING_PIXELS", 64 * 64)  # as if 128 px were large
    tiled = paint(tiny_model, jobs, settings, batch_size=2)
    assert tiled_calls == [1, 1]  # sliced: one image per decode, each in tiles
    assert not tiny_model.vae.use_tiling and not tiny_model.vae.use_slicing  # switched back off
    # Tiles blend at their seams, so pixels differ a little (random tiny weights: about 10 grey levels),
    # far less than two images of other seeds do.
    other = np.abs(pixels(whole[0]) - pixels(whole[1])).mean()
    for a, b in zip(whole, tiled, strict=True):
        assert a.size == b.size and np.abs(pixels(a) - pixels(b)).mean() < other / 2


def test_wide_grids_wrap_into_blocks_of_ten_columns():
    cells = [Image.new("RGB", (64, 64), (10 * i, 0, 0)) for i in range(23)]
    one_block = make_grid([cells[:10]], [f"A{i}" for i in range(10)], min_side=64)
    grid = make_grid([cells], [f"A{i}" for i in range(23)], min_side=64)
    assert grid.width == one_block.width and grid.height == 3 * one_block.height
    array = pixels(grid)
    # column 13 (the fourth of the second block) sits under column 3 of the first
    assert tuple(array[4 + 32, 4 + 3 * 68 + 32]) == (30, 0, 0)
    assert tuple(array[one_block.height + 4 + 32, 4 + 3 * 68 + 32]) == (130, 0, 0)


def test_one_grid_for_paint_and_batch_puts_each_cell_in_its_row_and_column():
    """`cell_grid`: a row per prompt and seed, a column per artist, in any order the cells come; labels say
    what differs; a grid with an unpainted cell waits (None)."""
    from creative_painting.painting.grid import cell_grid

    def cell(row, col, image):
        return Cell(row, col, f"prompt {row}", f"artist {col}", f"caption {row}", seed=7 + image, image=image)

    cells = [cell(r, c, k) for k in (1, 0) for c in (2, 0, 1) for r in (1, 0)]
    colour = {(c.row, c.image, c.col): (40 * c.row + 100 * c.image, 60 * c.col, 9) for c in cells}
    square = lambda c: Image.new("RGB", (64, 64), colour[(c.row, c.image, c.col)])  # noqa: E731
    expected = make_grid([[Image.new("RGB", (64, 64), colour[(r, k, c)]) for c in range(3)] for r in (0, 1) for k in (0, 1)],
                         ["artist 0", "artist 1", "artist 2"],
                         ["prompt 0 (seed 7)", "prompt 0 (seed 8)", "prompt 1 (seed 7)", "prompt 1 (seed 8)"])
    assert (pixels(cell_grid(cells, square)) == pixels(expected)).all()
    one_prompt = [c for c in cells if c.row == 0]
    expected = make_grid([[Image.new("RGB", (64, 64), colour[(0, k, c)]) for c in range(3)] for k in (0, 1)],
                         ["artist 0", "artist 1", "artist 2"], ["seed 7", "seed 8"])
    assert (pixels(cell_grid(one_prompt, square)) == pixels(expected)).all()
    assert cell_grid(cells, lambda c: None if c.col == 1 else square(c)) is None
