"""``python -m storyboard``: the same as the ``storyboard`` command and ``python main.py``."""

from __future__ import annotations

import sys

from storyboard.cli import main

if __name__ == "__main__":
    sys.exit(main())
