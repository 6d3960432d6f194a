"""Checks shared by the extension tests."""


def converted_once(bundled, monkeypatch, cache):
    """A bundled GGUF model converted into an empty cache: a transformers folder without the GGUF, and a
    second call answered from the cache in under a second."""
    import time

    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(cache))
    folder = bundled()
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.gguf"))
    start = time.perf_counter()
    assert bundled() == folder and time.perf_counter() - start < 1  # cached
    return folder
