"""Text that cannot be written as UTF-8: lone surrogates, repaired on the way in and out.

JSON can spell half of a UTF-16 pair (``"\\ud800"``, e.g. a Storyboarder file that cut an emoji
in two). Python reads it as a lone surrogate, a character no UTF-8 file can hold: such a project
loaded, and then every save and autosave failed with ``UnicodeEncodeError``. A lone surrogate
carries no meaning on its own, so it becomes U+FFFD (the replacement character, shown as �), and
a warning names each field that was repaired: when a project loads, and when a save meets one
that came in another way (an import, a paste).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

REPLACEMENT = "\ufffd"
_LONE = re.compile("[\ud800-\udfff]")
# A \u escape of a surrogate in raw JSON: the only way one can get into a file we parse (the
# file itself must be valid UTF-8). Paired escapes match too; the walk then finds nothing.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class TextRepairError(ValueError):
    """Repairing two keys of one object made them equal: the file cannot be read safely."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(f"{where}: two keys differ only in broken characters")


def _fix(text: str) -> str:
    return _LONE.sub(REPLACEMENT, text)


def repair_surrogates(data: Any) -> tuple[Any, list[str]]:
    """Replace every lone surrogate in a parsed JSON value (in place where it can); returns the
    value and the paths of the strings and keys that changed (``panels.p1.balloons[0].text``).

    Iterative, so it handles any depth the JSON parser accepted.
    """
    repaired: list[str] = []
    if isinstance(data, str):
        fixed = _fix(data)
        return fixed, ["(top level)"] if fixed != data else []
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if any(_LONE.search(key) for key in node):
                items = list(node.items())
                node.clear()
                for key, value in items:
                    fixed = _fix(key)
                    if fixed != key:
                        repaired.append(f"{path}.{fixed}".lstrip(".") + " (key)")
                    if fixed in node:
                        raise TextRepairError(f"{path}.{fixed}".lstrip("."))
                    node[fixed] = value
            for key, value in node.items():
                where = f"{path}.{key}".lstrip(".")
                if isinstance(value, str):
                    if _LONE.search(value):
                        node[key] = _fix(value)
                        repaired.append(where)
                elif isinstance(value, dict | list):
                    stack.append((value, where))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                where = f"{path}[{index}]"
                if isinstance(value, str):
                    if _LONE.search(value):
                        node[index] = _fix(value)
                        repaired.append(where)
                elif isinstance(value, dict | list):
                    stack.append((value, where))
    return data, repaired


def repair_loaded(data: Any, raw: bytes) -> tuple[Any, list[str]]:
    """After ``json.loads(raw)``: the repaired value and one warning per repaired field. Costs
    nothing for a file without surrogate escapes (nearly all of them)."""
    if not _SURROGATE_ESCAPE.search(raw):
        return data, []
    data, paths = repair_surrogates(data)
    return data, [f"{where}: a broken character was replaced by {REPLACEMENT}" for where in paths]


def dump_json(document: Any) -> bytes:
    """``document`` as indented UTF-8 JSON; lone surrogates become U+FFFD, with a warning in
    the log naming the fields (``document`` is changed then: pass a fresh dump)."""
    text = json.dumps(document, ensure_ascii=False, indent=1)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        document, paths = repair_surrogates(document)
        log.warning(
            "broken characters replaced by %s on save in: %s", REPLACEMENT, ", ".join(paths)
        )
        return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
