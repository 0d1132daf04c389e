"""Typed generation errors, each with a message an artist can act on.

The worker shows ``str(error)`` as it is, and the CLI prints it as one ``error:`` line, so every
message says what happened and what to do; details for developers go to the log. Each pickles
with its own fields (``__reduce__``), so it arrives whole from a cluster's actor. This module
imports nothing heavy, so the GUI can catch these without loading torch.
"""

from __future__ import annotations


class GenerationError(Exception):
    """Generation failed; the message is for the user. Base class of every engine error."""


class ModelUnavailable(GenerationError):
    """The model's weights cannot be loaded: missing, not cached offline, or not a model we run."""

    def __init__(self, source: str, tried: list[str], fix: str) -> None:
        self.source = source
        self.tried = tried
        self.fix = fix
        super().__init__(f"model {source!r} is not available ({'; '.join(tried)}). {fix}")

    def __reduce__(self) -> tuple[type, tuple[str, list[str], str]]:
        return (type(self), (self.source, self.tried, self.fix))  # crosses processes (Ray)


class OutOfMemory(GenerationError):
    """The device ran out of memory; the engine has freed what it could and stays usable."""

    def __init__(self, device: str, suggestion: str) -> None:
        self.device = device
        self.suggestion = suggestion
        super().__init__(f"out of memory on {device}. {suggestion}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.device, self.suggestion))


class Cancelled(GenerationError):
    """The user cancelled; images finished before that were already delivered."""

    def __init__(self, done: int) -> None:
        self.done = done
        super().__init__(f"cancelled after {done} image(s); those are kept")

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return (type(self), (self.done,))


class BankMissing(GenerationError):
    """A read that may only reuse saved identity banks (a cluster's read task) found none: the
    identity phase is never run inside a read, where it would make duplicate images."""

    def __init__(self, character: str, file: str) -> None:
        self.character = character
        self.file = file
        super().__init__(
            f"the identity bank of {character} is missing ({file}); generate its identity panels "
            "first"
        )

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.character, self.file))
