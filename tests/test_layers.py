"""The package's layers: data tools and model code never import what is built on top of them."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "creative_painting"
# What each package may not import (directly or lazily, inside functions).
FORBIDDEN = {
    "wikiart": {"models", "painting", "sampling", "training", "experiment", "extension", "batch", "studio", "cli"},
    "models": {"painting", "sampling", "training", "experiment", "extension", "batch", "studio", "cli", "wikiart"},
    "extension": {"painting", "training", "experiment", "batch", "studio", "cli"},
    "painting": {"training", "experiment", "batch", "studio", "cli", "extension"},
    "training": {"experiment", "batch", "studio", "cli", "extension"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        found |= {n.split(".")[1] for n in names if n.startswith("creative_painting.") and n.count(".") >= 1}
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_lower_layer_imports_nothing_above_it(package):
    offenders = {f"{path.name} imports {sorted(imported_packages(path) & FORBIDDEN[package])}"
                 for path in (PACKAGE / package).rglob("*.py") if imported_packages(path) & FORBIDDEN[package]}
    assert not offenders


def test_editors_see_through_the_lazy_exports():
    """`from creative_painting.models import StableDiffusion`: a TYPE_CHECKING import names the real module."""
    import creative_painting.models as models

    source = (PACKAGE / "models" / "__init__.py").read_text()
    assert "if TYPE_CHECKING:" in source and "from creative_painting.models.bundle import" in source
    for name in models.__all__:
        assert f" {name}" in source.split("if TYPE_CHECKING:")[1], name


def test_help_imports_no_heavy_library():
    """`creative-painting --help` must not wait seconds: building the parser imports neither torch, sklearn
    nor transformers (it took 2.8 s when the demo's choices and the extension's formulas came with them)."""
    import subprocess
    import sys

    code = ("import sys; from creative_painting.cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'sklearn', 'transformers', 'diffusers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_no_function_in_src_is_longer_than_60_lines():
    """Orchestrators read in one screen: the trainer is a recipe, the studio page one builder per tab."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= 60:
                long.append(f"{path.relative_to(PACKAGE)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long


def test_every_package_has_an_init_and_scripts_do_not_import_tests():
    assert [p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__" and not (p / "__init__.py").exists()
            and any(p.glob("*.py"))] == []
    scripts = PACKAGE.parents[1] / "scripts"
    assert not [p.name for p in scripts.glob("*.py") if "tests" in imported_top_level(p)]


def imported_top_level(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
    return found
