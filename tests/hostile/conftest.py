"""One sandbox (victim folder + base project) shared by the hostile-project tests of a session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.hostile_sandbox import Sandbox, make_sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory, qapp: object) -> Sandbox:
    """``qapp`` first: the exports run in this process, and a QApplication made now serves
    them and the editor tests that may follow (a QGuiApplication made by an export would not)."""
    return make_sandbox(Path(tmp_path_factory.mktemp("hostile")))
