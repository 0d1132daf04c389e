"""Storyboard editor entry point: ``python main.py --help``."""

from __future__ import annotations

import sys

from storyboard.cli import main

if __name__ == "__main__":
    sys.exit(main())
