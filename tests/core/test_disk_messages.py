"""Messages of failed writes name the file and the real cause (before: 'error:  No space left on
device', naming nothing)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.core import atomic
from storyboard.core.assets import AssetStore
from tests.conftest import png_bytes
from tests.core.test_storyboarder import make_storyboarder

FULL = "the disk is full. Free some space, or choose a folder on another disk"


def _fsync_reports_a_full_disk(fd: int) -> None:
    """A network or delayed-allocation disk reports the missing space at fsync."""
    raise OSError(errno.ENOSPC, "No space left on device")


def test_import_storyboarder_onto_a_full_disk_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_storyboarder(tmp_path / "src")
    monkeypatch.setattr(atomic.os, "fsync", _fsync_reports_a_full_disk)
    assert main(["import-storyboarder", str(source), str(tmp_path / "Imported")]) == 2
    error = capsys.readouterr().err.strip()
    assets = tmp_path / "Imported.storyboard" / "assets"
    assert error.startswith(f"error: {assets}/"), error
    assert error.endswith(f".png: {FULL}"), error
    assert not assets.parent.exists()  # nothing half-imported is left, no temp file either


def test_import_storyboarder_onto_a_really_full_disk(
    tmp_path: Path, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_storyboarder(tmp_path / "src")
    assert main(["import-storyboarder", str(source), str(full_disk / "Imported")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {full_disk / 'Imported.storyboard'}/"), error
    assert error.endswith(FULL), error


def test_a_failed_asset_write_keeps_its_type_and_names_the_asset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The editor holds generated images in memory when the folder cannot take them: it still
    gets an OSError (with the errno), now naming the file, not the temp file or nothing."""
    store = AssetStore(tmp_path / "x.storyboard")
    monkeypatch.setattr(atomic.os, "fsync", _fsync_reports_a_full_disk)
    with pytest.raises(OSError) as failed:
        store.put(png_bytes())
    assert failed.value.errno == errno.ENOSPC
    assert Path(failed.value.filename).parent == store.root
    assert Path(failed.value.filename).suffix == ".png"
