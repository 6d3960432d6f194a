"""creative-painting: have famous painters paint modern topics with Stable Diffusion, extend a short prompt
into scenes, and retrain on WikiArt. Start with `paint`, `extend` or `studio`; each command's --help has examples."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from creative_painting import __version__
from creative_painting._lazy import hide_optional
from creative_painting.cli import (
    batch_cmd,
    demo_cmd,
    extend_cmd,
    models_cmd,
    paint_cmd,
    studio_cmd,
    train_cmd,
    train_vae_cmd,
    wiki_cmd,
    wikiart_cmd,
)
from creative_painting.cli.parser import HelpFormatter, OneLineParser
from creative_painting.errors import UserError

COMMANDS = (paint_cmd, batch_cmd, studio_cmd, extend_cmd, wiki_cmd, wikiart_cmd, train_cmd, demo_cmd, train_vae_cmd,
            models_cmd)


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="creative-painting", description=__doc__)
    parser.add_argument("--version", action="version", version=f"creative-painting {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show library log messages")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for module in COMMANDS:
        module.register(sub)
    _add_examples(parser)
    return parser


def leaf_parsers(parser: argparse.ArgumentParser, path: str = "") -> dict[str, argparse.ArgumentParser]:
    """"wikiart stats" -> its parser, for every command that runs something."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {path: parser}
    found = {}
    for name, child in subs[0].choices.items():
        found.update(leaf_parsers(child, f"{path} {name}".strip()))
    return found


def _add_examples(parser: argparse.ArgumentParser) -> None:
    from creative_painting.cli.examples import epilog

    for path, leaf in leaf_parsers(parser).items():
        leaf.epilog = epilog(path) or leaf.epilog
        leaf.formatter_class = HelpFormatter


class _NoteFormatter(logging.Formatter):
    """Our own warnings are notes to the user ("note: ..."); other libraries' keep their level."""

    def format(self, record: logging.LogRecord) -> str:
        ours = record.name.startswith("creative_painting") and record.levelno < logging.ERROR
        return f"{'note' if ours else record.levelname}: {record.getMessage()}"


def _quiet_libraries(verbose: bool) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # basicConfig's, not a test harness's
            handler.setFormatter(_NoteFormatter())
    if not verbose:
        warnings.simplefilter("ignore")  # library warnings are for their developers; -v shows them
        # Read by the libraries when they are first imported; importing them here costs seconds.
        # critical: their error logs repeat what our one-line error says (a pickled .bin, a bad config)
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "critical")
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "critical")
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def main(argv: list[str] | None = None) -> int:
    hide_optional()  # before any library: only the run that uses bitsandbytes imports it
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "overrides", None) is not None and all("=" in e and not e.startswith("-") for e in extra):
        args.overrides += extra  # `train CONFIG --no-progress key=value`: overrides after flags
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _quiet_libraries(args.verbose)
    try:
        return args.run(args) or 0
    except UserError as e:
        print(f"creative-painting {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
