"""What an identity bank was made under, and the error that refuses a bank made under others.

A :class:`BankKey` is saved in the bank's file and names it in the project cache
(:mod:`inference.bank.cache`), so a bank is never used with settings it was not made for.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields


class BankMismatchError(ValueError):
    """An identity bank was offered to a generation whose settings it was not made for."""


@dataclass(frozen=True)
class BankKey:
    """Everything that determines the contents of a character's bank.

    The engine builds it from the character's identity settings; ``digest()`` is what a project
    cache can name files by. ``model`` should identify the weights (hub id + revision, or a file
    hash).
    """

    model: str
    identity_prompts: tuple[str, ...]
    seed: int
    height: int
    width: int
    steps: int
    scheduler: str
    csa: str
    cfg: bool = True

    def as_json(self) -> str:
        """Canonical JSON of the key (sorted fields), the input of :meth:`digest`."""
        data = asdict(self)
        data["identity_prompts"] = list(self.identity_prompts)
        return json.dumps(data, sort_keys=True)

    def digest(self) -> str:
        """Short hex hash of the key."""
        return hashlib.sha256(self.as_json().encode()).hexdigest()[:32]

    @classmethod
    def from_json(cls, text: str) -> BankKey:
        """Inverse of :meth:`as_json`."""
        data = json.loads(text)
        data["identity_prompts"] = tuple(data["identity_prompts"])
        return cls(**data)

    def differences(self, other: BankKey) -> list[str]:
        """Human-readable list of the fields that differ (``name: ours != theirs``)."""
        out = []
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if mine != theirs:
                out.append(f"{f.name}: {_short(mine)} != {_short(theirs)}")
        return out


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
