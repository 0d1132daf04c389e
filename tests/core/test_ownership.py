"""One owner per project: the lock names its holder, only the holder releases it, and a holder
that is gone (dead, a zombie, a reused pid) never locks the project for good."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storyboard.core.model import Project
from storyboard.core.ownership import (
    LOCK_FILE,
    Holder,
    Program,
    ProjectLock,
    ProjectLocked,
    read_holder,
)
from storyboard.core.persistence import save_project

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from storyboard.core.ownership import ProjectLock
ProjectLock.acquire(sys.argv[1], sys.argv[2])
print("held", flush=True)
time.sleep(60)
"""


def hold_in_subprocess(bundle: Path, program: str) -> subprocess.Popen[str]:
    """A real other process holding the project's lock (an editor, or generate)."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(bundle), program],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


@pytest.fixture
def bundle(project: Project, tmp_path: Path) -> Path:
    return save_project(project, tmp_path / "x.storyboard")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that has nothing to do with any project."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def write_lock(bundle: Path, **fields: object) -> None:
    (bundle / LOCK_FILE).write_text(json.dumps({"host": socket.gethostname(), **fields}))


def test_the_lock_says_who_holds_it_and_refuses_a_second_owner(bundle: Path) -> None:
    lock = ProjectLock.acquire(bundle, Program.EDITOR)
    holder = read_holder(bundle)
    assert holder == lock.holder
    assert holder is not None and holder.program == "editor"
    assert (holder.pid, holder.host) == (os.getpid(), socket.gethostname())
    assert holder.started is not None and holder.since is not None and holder.token
    # another window of this same process is another owner: refused, naming holder and lock file
    with pytest.raises(ProjectLocked) as refused:
        ProjectLock.acquire(bundle, Program.GENERATE)
    message = str(refused.value)
    assert f"the editor (process {os.getpid()} on {socket.gethostname()}, since" in message
    assert str(bundle / LOCK_FILE) in message
    assert refused.value.holder == holder
    lock.release()
    assert not (bundle / LOCK_FILE).exists()


def test_only_the_holder_releases_the_lock(bundle: Path) -> None:
    mine = ProjectLock.acquire(bundle, Program.EDITOR)
    stranger = ProjectLock(bundle, Holder("editor", os.getpid(), "elsewhere", None, None, "x"))
    stranger.release()  # a window that never held it (read-only) closes
    assert mine.holds()
    with pytest.raises(ProjectLocked):
        stranger.check()  # and may not write either
    mine.release()


def test_a_dead_holder_is_taken_over(bundle: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    write_lock(bundle, pid=dead.pid, started=time.time() - 5, since=time.time() - 5, token="t")
    lock = ProjectLock.acquire(bundle, Program.GENERATE)
    assert read_holder(bundle) == lock.holder


def test_a_zombie_holder_is_gone(bundle: Path) -> None:
    child = hold_in_subprocess(bundle, "editor")
    child.kill()  # killed (-9) but not yet reaped by its parent: a zombie keeps its pid
    time.sleep(0.2)
    try:
        lock = ProjectLock.acquire(bundle, Program.EDITOR)
        assert lock.holds()
    finally:
        child.wait()


def test_a_reused_pid_is_not_the_holder(bundle: Path, sleeper: subprocess.Popen[bytes]) -> None:
    """A stale lock naming a live but unrelated process: its start time tells it apart."""
    write_lock(bundle, program="editor", pid=sleeper.pid, started=1.0e9, since=1.0e9, token="t")
    assert read_holder(bundle).stale()  # type: ignore[union-attr]
    assert ProjectLock.acquire(bundle, Program.GENERATE).holds()


def test_an_old_lock_without_a_start_time_uses_when_it_was_taken(
    bundle: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    # the lock from before start times: {"pid", "host", "opened"}; a process that started after
    # the lock was taken cannot be the one that took it
    write_lock(bundle, pid=sleeper.pid, opened="2020-01-01T10:00:00+00:00")
    assert read_holder(bundle).stale()  # type: ignore[union-attr]
    opened = datetime.now(UTC).isoformat()  # the parent process (pytest's) started earlier
    write_lock(bundle, pid=os.getppid(), opened=opened)
    assert not read_holder(bundle).stale()  # type: ignore[union-attr]


def test_another_hosts_lock_counts_as_live(bundle: Path) -> None:
    lock = {"pid": 1, "host": "render-node-7", "started": 1.0, "since": 1.0, "token": "t"}
    (bundle / LOCK_FILE).write_text(json.dumps(lock))
    with pytest.raises(ProjectLocked, match="render-node-7"):
        ProjectLock.acquire(bundle, Program.EDITOR)


def test_a_holder_in_another_process_until_it_is_killed(bundle: Path) -> None:
    child = hold_in_subprocess(bundle, "generate")
    try:
        with pytest.raises(ProjectLocked, match=f"storyboard generate \\(process {child.pid} "):
            ProjectLock.acquire(bundle, Program.EDITOR)
    finally:
        child.kill()
        child.wait()
    assert ProjectLock.acquire(bundle, Program.EDITOR).holds()  # kill -9 locks nothing for good


def test_a_lock_taken_over_meanwhile_stops_the_old_holder(bundle: Path) -> None:
    mine = ProjectLock.acquire(bundle, Program.EDITOR)
    # someone decided we were gone and took it (a lost race, a lock copied from a backup...)
    write_lock(bundle, program="generate", pid=os.getppid(), started=None, since=None, token="z")
    with pytest.raises(ProjectLocked, match=r"storyboard generate"):
        mine.check()
    mine.release()
    assert read_holder(bundle).token == "z"  # type: ignore[union-attr]


def test_a_lock_deleted_by_hand_is_taken_back_before_a_write(bundle: Path) -> None:
    mine = ProjectLock.acquire(bundle, Program.EDITOR)
    (bundle / LOCK_FILE).unlink()
    mine.check()
    assert mine.holds() and read_holder(bundle) == mine.holder


@pytest.mark.parametrize("kind", ["pipe", "huge", "link", "negative pid", "not json"])
def test_a_hostile_lock_file_neither_hangs_nor_keeps_the_project_locked(
    bundle: Path, tmp_path: Path, kind: str
) -> None:
    """A project from someone else may carry any ``session.lock``: it is read in bounded time,
    never followed out of the folder, and the project can still be opened."""
    lock = bundle / LOCK_FILE
    outside = tmp_path / "outside.txt"
    outside.write_text("not the project's")
    if kind == "pipe":
        os.mkfifo(lock)  # opening it to read would wait for a writer forever
    elif kind == "huge":
        lock.write_text(json.dumps({"pid": 1, "host": socket.gethostname(), "x": "x" * 10**7}))
    elif kind == "link":
        lock.symlink_to(outside)
    elif kind == "negative pid":
        write_lock(bundle, pid=-5, started=1.0, since=1.0, token="t")
    else:
        lock.write_bytes(b"\xff\x00garbage")
    taken = ProjectLock.acquire(bundle, Program.EDITOR)
    assert taken.holds()
    taken.release()
    assert not lock.exists() and outside.read_text() == "not the project's"
