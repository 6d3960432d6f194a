from creative_painting.cli.main import main
from creative_painting.wikiart import collection_stats, iter_entries, iter_source
from creative_painting.wikiart.synthetic import write_parquet


def _artist_counts(source):
    return collection_stats(iter_source(source))["top_artists"]


def test_folder_and_tar_give_the_same_artworks_and_bytes(wikiart_folder, wikiart_tar, synthetic_files):
    folder = {e.artwork.path: e.read() for e in iter_entries(wikiart_folder)}
    tar = {e.artwork.path: e.read() for e in iter_entries(wikiart_tar)}
    assert folder == tar == synthetic_files  # the tar's top `wikiart/` folder is stripped from the keys
    assert _artist_counts(wikiart_folder) == _artist_counts(wikiart_tar)


def test_uncompressed_tar_entries_read_their_member_by_offset(tmp_path, synthetic_files):
    from creative_painting.wikiart.sources import compressed_tars
    from creative_painting.wikiart.synthetic import write_collection

    plain = write_collection(synthetic_files, tmp_path / "wikiart.tar", as_tar=True)
    packed = write_collection(synthetic_files, tmp_path / "wikiart.tar.gz", as_tar=True)
    entries = list(iter_entries(plain))  # a header scan: no member is read yet
    assert {e.artwork.path: e.read() for e in reversed(entries)} == synthetic_files  # any order: random access
    assert compressed_tars(f"{plain},{packed}") == [packed]


def test_parquet_class_ids_become_names_and_unknowns_disappear(tmp_path, synthetic_files):
    path = write_parquet(synthetic_files, tmp_path / "train-00000.parquet")
    entries = list(iter_entries(path))
    assert [e.read() for e in entries] == list(synthetic_files.values())
    arts = [e.artwork for e in entries]
    assert {a.genre for a in arts} == {"landscape", "portrait", None}  # "Unknown Genre" -> no genre
    assert arts[0].artist == "Anna Orlova" and arts[0].title == "" and arts[0].year is None
    stats = collection_stats(iter_source(path))
    assert (stats["images"], stats["artists"], stats["genres"]) == (65, 8, 2)


def test_genre_lists_join_a_folder_by_path(tmp_path, wikiart_folder):
    (tmp_path / "genre_class.txt").write_text("0 landscape\n1 still_life\n")
    (tmp_path / "genre_train.csv").write_text("Cubism/clara-berg_sun-1-1886.jpg,1\nNot/listed_here.jpg,0\n")
    arts = {a.path: a for a in iter_source(f"{wikiart_folder},{tmp_path / 'genre_train.csv'}")}
    assert arts["Cubism/clara-berg_sun-1-1886.jpg"].genre == "still life"
    assert arts["Cubism/clara-berg_sun-2-1887.jpg"].genre is None
    assert "Not/listed_here.jpg" not in arts  # the list labels the folder; it adds no images


def test_bad_sources_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tar at all")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 nope")
    (tmp_path / "notes.txt").write_text("hello")
    for source, message in [(tmp_path / "junk.tar.gz", "cannot read tar"), (tmp_path / "junk.parquet", "cannot read parquet"),
                            (tmp_path / "notes.txt", "unsupported WikiArt source"), (tmp_path / "nope", "not found")]:
        assert main(["wikiart", "stats", str(source)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err


def _bytes_read() -> int:
    """Bytes this process has read through read() calls so far (Linux `rchar`)."""
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


def test_listing_an_uncompressed_tar_reads_only_its_headers(tmp_path):
    import io
    import os
    import tarfile

    from creative_painting.wikiart.sources import iter_tar

    payloads = {f"Impressionism/claude-monet_harbour-{i}-1870.jpg": os.urandom(200_000) for i in range(40)}
    path = tmp_path / "wikiart.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in payloads.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    size = path.stat().st_size
    before = _bytes_read()
    entries = list(iter_tar(path))
    listed = _bytes_read() - before
    assert len(entries) == 40
    assert listed < 0.05 * size, f"listing read {listed:,} of {size:,} bytes"
    # Each entry reads exactly its own member, by offset.
    by_path = {e.artwork.path: e for e in entries}
    assert all(by_path[name].read() == data for name, data in payloads.items())
