"""Settings files: YAML (1.2 booleans) or TOML, overridden by `key=value` pairs, checked against a dataclass.

`train`, `train-vae` and `batch` read their files with it: every error names the bad key in one line.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path
from typing import Any

import tomllib
import yaml

from creative_painting.errors import UserError


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true and false. YAML 1.1's yes/no/on/off stay words, so `mixed_precision: no`
    is the string "no" (a bool field still takes yes and no, in `coerce`)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass


def _parse_value(text: str, kind: Any) -> Any:
    """An override's value: a text field takes the word as typed; others are read as YAML (numbers, lists)."""
    if kind is str or (typing.get_origin(kind) in (typing.Union, types.UnionType) and str in typing.get_args(kind)
                       and text.strip() not in ("null", "~")):
        return text
    try:
        return _load_yaml(text)
    except yaml.YAMLError:
        return text


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a text"}


def coerce(key: str, kind: Any, value: Any, where: str = "config: ") -> Any:
    """`value` as the field's type (one set of rules for settings files, overrides, forms and the HTTP API):
    `learning_rate=1e-5` is a float, `validation_prompts=abc` one prompt, a form's 50.0 steps the integer 50."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None or value == "null":
            return None
        options = [a for a in args if a is not type(None)]
        if isinstance(value, list):  # a list takes the list type (a template, or one per prompt)
            options = [a for a in options if typing.get_origin(a) in (list, tuple)] or options
        return coerce(key, options[0], value, where)
    if origin in (list, tuple):
        items = [coerce(key, args[0], item, where) for item in (value if isinstance(value, list) else [value])]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise UserError(f"{where}{key} must be a mapping, got {value!r}")
        return {coerce(key, args[0], k, where): coerce(key, args[1], v, where) for k, v in value.items()}
    wrong = UserError(f"{where}{key} must be {_KINDS.get(kind, kind)}, got {value!r}")
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
            return value.lower() in ("true", "yes")
        raise wrong
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
        raise wrong
    if kind is float:
        try:
            number = float(value) if not isinstance(value, bool) and isinstance(value, (int, float, str)) else None
        except ValueError:
            number = None
        if number is None:
            raise wrong
        if not math.isfinite(number):
            raise UserError(f"{where}{key} must be a finite number, got {number}")
        return number
    if kind is str:
        if isinstance(value, (list, dict, bool)) or value is None:
            raise wrong
        return str(value)
    return value


def _today(loaded: dict[str, Any], cls: type) -> dict[str, Any]:
    """A file's keys under today's names (`cls.FORMER_KEYS`: a renamed key's old name -> its name); both at once is
    one line, not a guess."""
    renamed = dict(loaded)
    for old, new in getattr(cls, "FORMER_KEYS", {}).items():
        if old in renamed:
            if new in renamed:
                raise UserError(f"give {new} or {old} (its former name), not both")
            renamed[new] = renamed.pop(old)
    return renamed


def load_settings(path: str | Path | None, overrides: list[str] = (), base: dict[str, Any] | None = None, *,
                  cls: type):
    """Read YAML/TOML, apply `key=value` overrides, check names and values; errors name the bad key."""
    data: dict[str, Any] = dict(base or {})
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise UserError(f"config not found: {path}")
        try:
            text = path.read_text(encoding="utf-8")
            loaded = tomllib.loads(text) if path.suffix == ".toml" else _load_yaml(text)
        except (tomllib.TOMLDecodeError, yaml.YAMLError) as e:
            raise UserError(f"cannot parse {path}: {str(e).splitlines()[0]}") from e
        if not isinstance(loaded, dict):
            raise UserError(f"{path} must hold a mapping of settings")
        data.update(_today(loaded, cls))
    hints = typing.get_type_hints(cls)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"override {item!r} is not key=value")
        key = key.strip().replace("-", "_")
        key = getattr(cls, "FORMER_KEYS", {}).get(key, key)  # `seeds=2` is `images=2`
        data[key] = _parse_value(value, hints.get(key))
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise UserError(f"unknown config key(s): {', '.join(sorted(unknown))}")
    missing = {f.name for f in dataclasses.fields(cls)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING} - set(data)
    if missing:
        raise UserError(f"config needs: {', '.join(sorted(missing))}")
    return cls(**{key: coerce(key, hints[key], value) for key, value in data.items()}).validate()
