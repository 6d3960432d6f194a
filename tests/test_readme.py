"""The README cannot rot: each of its commands is an example in its command's --help, and the ones that
need no network, real weights or long runs are run here, exactly as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from creative_painting.cli.main import build_parser, leaf_parsers

ROOT = Path(__file__).resolve().parents[1]
PREFIX = ".venv/bin/"
# Commands run below, with the files they need laid out beforehand.
RUN = {
    'creative-painting extend "urbanization of china" --top 5',
    'creative-painting extend "asia morning" --scoring paper --json',
    "creative-painting wikiart stats style_train.csv,style_val.csv --plot fig3.png",
    "creative-painting wikiart validate wikiart.tar.gz",
    "creative-painting wikiart shard wikiart.tar.gz,genre_train.csv,genre_val.csv shards/ --size 512",
}
# Not run, and why: each new README command must be put in one of the two sets.
SKIP = {
    "make demo": "set-up, then `demo --quick` (2 minutes): tests/experiment/test_first_run.py runs it (slow)",
    "make test": "is the command running this test",
    "creative-painting paint": "real weights (a hub download or a checkpoint file)",
    "creative-painting studio": "a server, tested in tests/studio/",
    "creative-painting demo": "five minutes; tests/training/test_demo.py runs it reduced",
    "creative-painting wiki index": "a Wikipedia dump",
    "creative-painting extend \"urbanization of china\" --index": "an index built from a Wikipedia dump",
    "creative-painting extend \"the industrial revolution\" --rewrite": "SmolLM2, tested in tests/extension/test_rewrite.py",
    "creative-painting train": "a training config and real weights",
    "accelerate launch": "8 GPUs",
    "creative-painting batch": "real weights",
    "creative-painting figures": "real weights",
}


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s#\s.*$", "", line).strip()  # a trailing comment, never a `#` inside a word
            if line.startswith("#"):
                continue
            line = " ".join(line.split())
            if line:
                commands.append(line.removeprefix(PREFIX))
    return commands


def _normal(text: str) -> str:
    return " ".join(text.split())


def test_every_command_has_an_example_in_its_help():
    for path, parser in leaf_parsers(build_parser()).items():
        assert "examples:\n  creative-painting" in parser.format_help(), path


def test_readme_commands_are_the_examples_of_their_commands_help():
    leaves = leaf_parsers(build_parser())
    commands = readme_commands()
    assert len(commands) >= 15
    for command in commands:
        if command.startswith("make "):
            target = command.split()[1]
            assert re.search(rf"^{target}:", (ROOT / "Makefile").read_text(), flags=re.M), command
            continue
        words = shlex.split(command)
        if words[0] == "accelerate":
            words = words[words.index("creative_painting.cli.main"):]
        path = " ".join(words[1:3]) if " ".join(words[1:3]) in leaves else words[1]
        assert path in leaves, f"README command of no known command: {command}"
        assert _normal(command) in _normal(leaves[path].format_help()), \
            f"README command is not an example in `{path} --help`: {command}"


def test_every_readme_command_is_run_here_or_skipped_for_a_reason():
    for command in readme_commands():
        assert command in RUN or any(command.startswith(prefix) for prefix in SKIP), \
            f"decide whether the test runs this README command: {command}"
    assert set(readme_commands()) >= RUN, "a command in RUN is no longer in the README"


def test_readme_commands_that_need_no_network_run_as_written(tmp_path, real_lists):
    from creative_painting.wikiart.synthetic import collection_files, make_artists, write_collection

    for name in ("style_train.csv", "style_val.csv", "genre_train.csv", "genre_val.csv"):
        shutil.copy(real_lists / name, tmp_path / name)
    write_collection(collection_files(make_artists(2), ["sun", "tree"], size=512, broken=True),
                     tmp_path / "wikiart.tar.gz", as_tar=True)
    outputs = {}
    for command in sorted(RUN):
        words = shlex.split(command)
        result = subprocess.run([sys.executable, "-m", "creative_painting.cli.main", *words[1:]], cwd=tmp_path,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
        outputs[" ".join(words[1:3])] = result.stdout
    assert "81,446" in outputs["wikiart stats"] and (tmp_path / "fig3.png").stat().st_size > 10_000
    assert "truncated" in outputs["wikiart validate"]
    assert (tmp_path / "shards" / "shards.json").is_file()
    assert "China" in outputs['extend urbanization of china']
    paper = json.loads(outputs["extend asia morning"])
    assert paper["scoring"] == "paper" and paper["formula"] == "tfidf + l1*cosine + l2*entities"
    assert paper["weights"] == {"l1": 1.0, "l2": 0.1}  # the paper's l2 unless --l2 says otherwise


@pytest.mark.parametrize("page", ["paper.md", "studio.md", "architecture.md", "benchmarks.md", "painting.md",
                                  "extension.md", "wikiart.md", "training.md", "batch.md", "claims.md"])
def test_readme_links_resolve(page):
    assert f"docs/{page}" in (ROOT / "README.md").read_text()
    assert (ROOT / "docs" / page).is_file()
    for target in re.findall(r"\]\(([^)#:]+)", (ROOT / "docs" / page).read_text()):
        assert (ROOT / "docs" / target).exists(), f"docs/{page} links to a missing {target}"


def test_version_is_the_same_in_the_package_pyproject_and_changelog():
    import tomllib

    from creative_painting import __version__

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == __version__
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_the_readme_stays_short_and_states_speed_as_median_and_range():
    """A new user reads it first: what this is, the two commands, the tour and links (issue 29: 12.5 KB had
    grown back). Speed figures are medians with their range over several runs, never one good run."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode()) <= 8 * 1024
    speed = text[text.index("## Painting"):text.index("## Prompt extension")]
    assert re.search(r"0\.\d+x .*medians? of .* runs on .* days", " ".join(speed.split()))
    assert re.search(r"ranges? 0\.\d+-0\.\d+", speed)
