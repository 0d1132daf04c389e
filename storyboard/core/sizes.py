"""File sizes in words, one way everywhere ('4.5 MiB'): clean-up, caches, temporary files."""

from __future__ import annotations


def human_size(count: int) -> str:
    """``count`` bytes in binary units, one decimal: '912 bytes', '3.2 KiB', '4.5 MiB'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"
