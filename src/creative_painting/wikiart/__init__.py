"""WikiArt: every distributed layout, file names to metadata, captions, statistics, validation, shards."""

from creative_painting.wikiart.captions import DEFAULT_CAPTION, make_caption
from creative_painting.wikiart.names import Artwork, artist_display_name, parse_path, repair_mojibake
from creative_painting.wikiart.sources import Entry, iter_entries, iter_source
from creative_painting.wikiart.stats import collection_stats, plot_top_artists

__all__ = ["DEFAULT_CAPTION", "Artwork", "Entry", "artist_display_name", "collection_stats", "iter_entries",
           "iter_source", "make_caption", "parse_path", "plot_top_artists", "repair_mojibake"]
