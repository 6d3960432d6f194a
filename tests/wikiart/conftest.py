import pytest

from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection


@pytest.fixture(scope="session")
def synthetic_files():
    """6 artists x 5 subjects x 2 copies (60 good JPEGs) plus the 5 broken kinds."""
    return collection_files(make_artists(6), SUBJECTS[:5], per_pair=2, size=96, broken=True)


@pytest.fixture(scope="session")
def wikiart_folder(tmp_path_factory, synthetic_files):
    return write_collection(synthetic_files, tmp_path_factory.mktemp("wa") / "wikiart")


@pytest.fixture(scope="session")
def wikiart_tar(tmp_path_factory, synthetic_files):
    return write_collection(synthetic_files, tmp_path_factory.mktemp("wa") / "wikiart.tar.gz", as_tar=True)
