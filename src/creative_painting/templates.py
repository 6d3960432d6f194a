"""Caption templates with optional parts: "{title}[, a {genre}] by {artist}[, {year}]".

A part in square brackets is dropped when any field in it is missing, so a caption never reads
"None" or ends in a dangling comma. Fields outside brackets are required.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from creative_painting.errors import UserError

DEFAULT_TEMPLATE = "a painting of {prompt}[ by {artist}][, {style}][, {genre}][, {year}]"
# Extensions are whole sentences ("Shenzhen grew ... after 1979"): "a painting of <sentence>" reads badly.
EXTENDED_TEMPLATE = "{prompt}[, a painting by {artist}][, {style}][, {genre}][, {year}]"

_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_FORMATTER = string.Formatter()


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(template.replace("[", "").replace("]", "")) if name}


def render(template: str, fields: Mapping[str, object]) -> str:
    """Fill `template`; optional `[...]` parts whose fields are missing or empty disappear."""
    values = {k: str(v).strip() for k, v in fields.items() if v is not None and str(v).strip()}

    def optional(match: re.Match) -> str:
        part = match.group(1)
        return part.format_map(values) if template_fields(part) <= values.keys() else ""

    try:
        text = _OPTIONAL.sub(optional, template)
        missing = template_fields(text) - values.keys()
        if missing:
            raise UserError(f"caption template {template!r} needs {', '.join(sorted(missing))}")
        text = text.format_map(values)
    except (ValueError, IndexError) as e:
        raise UserError(f"bad caption template {template!r}: {e}") from e
    return re.sub(r"\s+", " ", text).strip(" ,;")
