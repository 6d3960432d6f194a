"""WikiArt: file names to metadata, ArtGAN lists and folders, collection statistics."""

from creative_painting.wikiart.lists import iter_source
from creative_painting.wikiart.names import Artwork, artist_display_name, parse_path, repair_mojibake
from creative_painting.wikiart.stats import collection_stats, plot_top_artists

__all__ = ["Artwork", "artist_display_name", "collection_stats", "iter_source", "parse_path", "plot_top_artists",
           "repair_mojibake"]
