"""Lazy package exports (PEP 562): `creative-painting --help` must not wait seconds for torch and diffusers.
And packages that others import only because they are installed, hidden until a run needs them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, modules: dict[str, list[str]]) -> tuple[list[str], Callable[[str], Any]]:
    """`__all__` and a module `__getattr__` that imports `package.<module>` on first use of one of its names."""
    owner = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in owner:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{owner[name]}"), name)

    return sorted(owner), __getattr__


# Installed, bitsandbytes is imported by every `import diffusers` (its quantizers): 2 s and a warning on stderr
# ("Failed to load CPU gemm_4bit_forward ..."), even for a refusal. Only training's 8-bit AdamW needs it.
OPTIONAL = ("bitsandbytes",)
_hidden: set[str] = set()


def hide_optional() -> None:
    """Make each optional package look absent to availability checks (`importlib.util.find_spec` returns None
    for a module that is None in `sys.modules`), unless something imported it already."""
    for name in OPTIONAL:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
            _hidden.add(name)


def unhide(name: str) -> None:
    """A run that needs the package: visible and importable again (a None set by anyone else stays)."""
    if name in _hidden and sys.modules.get(name, 0) is None:
        del sys.modules[name]
    _hidden.discard(name)
