"""Lazy package exports (PEP 562): `creative-painting --help` must not wait seconds for torch and diffusers."""

from __future__ import annotations

import importlib
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
