"""``ClusterStoryEngine`` on a local Ray cluster: the built-in model, two actors of one thread,
two steps, the 12-panel sample. One cluster for the module (starting one takes seconds)."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

ray = pytest.importorskip("ray")

from inference.cluster.engine import ClusterStoryEngine  # noqa: E402
from inference.engine.story_engine import StoryEngine  # noqa: E402
from inference.errors import BankMissing, Cancelled  # noqa: E402
from inference.results import GeneratedImage, Progress  # noqa: E402
from storyboard.cli import main  # noqa: E402
from storyboard.core.jobs import Overrides, StoryRequest, build_story_request  # noqa: E402
from storyboard.core.persistence import load_project  # noqa: E402
from tests.fixtures.engine_helpers import pixels  # noqa: E402

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "sample.storyboard"
STEPS = 2
TOKEN = Path.home() / ".ray" / "auth_token"


@pytest.fixture(scope="module")
def home_had_token() -> bool:
    return TOKEN.exists()


@pytest.fixture(scope="module")
def cluster(home_had_token: bool) -> Iterator[ClusterStoryEngine]:
    # 4 logical CPUs on the 2-core machine: the CLI test starts two actors of its own
    engine = ClusterStoryEngine("local", actors=2, threads=1, num_cpus=4)
    engine.start()
    yield engine
    engine.shutdown()


def request_in(folder: Path, seed: int | None = None) -> StoryRequest:
    bundle = Path(shutil.copytree(SAMPLE, folder / "sample.storyboard"))
    project = load_project(bundle).project
    overrides = Overrides(steps=STEPS, seed=seed)
    return build_story_request(project, bundle=bundle, overrides=overrides)


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    request = request_in(tmp_path_factory.mktemp("in-process"))
    return {i.job.panel_id: i.png for i in StoryEngine().generate(request)}


def same_pixels(images: list[GeneratedImage], expected: dict[str, bytes]) -> None:
    assert sorted(i.job.panel_id for i in images) == sorted(expected)  # each panel once
    for image in images:
        assert (pixels(image.png) == pixels(expected[image.job.panel_id])).all(), image.job.label


def test_the_cluster_draws_the_pixels_the_engine_draws_in_process(
    cluster: ClusterStoryEngine, in_process: dict[str, bytes], tmp_path: Path, home_had_token: bool
) -> None:
    request = request_in(tmp_path)
    seen: list[Progress] = []
    images = cluster.generate(request, progress=seen.append)
    same_pixels(images, in_process)
    counts = [(p.images_done, p.images_total) for p in seen if p.phase != "loading"]
    assert {total for _, total in counts} == {12}  # counted across the actors
    assert [done for done, _ in counts] == sorted(done for done, _ in counts)
    banks = sorted(p.name for p in Path(str(request.cache_dir)).iterdir())
    assert len(banks) == 2  # the record: one bank per character, in the project's cache

    # on loopback only, and nothing left in the home folder
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    ours = {p.pid for p in psutil.Process().children(recursive=True)} | {psutil.Process().pid}
    listening = {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in ours
    }
    assert listening and listening <= {"127.0.0.1", "::ffff:127.0.0.1"}
    assert TOKEN.exists() == home_had_token


def test_an_actor_killed_mid_batch_changes_no_pixel(
    cluster: ClusterStoryEngine, in_process: dict[str, bytes], tmp_path: Path
) -> None:
    """Through the object store this time; the killed actor's batch runs again elsewhere."""
    killed: list[str] = []

    def kill_one(progress: Progress) -> None:
        if killed or progress.phase != "panels" or progress.step != 1:
            return
        for worker in cluster.workers:
            if worker.current is not None and worker.current.startswith("read"):
                killed.append(worker.name)
                ray.kill(worker.actor, no_restart=False)  # Ray restarts it
                return

    cluster.banks_mode = "object_store"
    try:
        request = request_in(tmp_path)
        images = cluster.generate(request, progress=kill_one)
    finally:
        cluster.banks_mode = "auto"
    assert killed
    same_pixels(images, in_process)
    assert len(list(Path(str(request.cache_dir)).iterdir())) == 2  # recorded from the store
    deadline = time.monotonic() + 60
    while not all(w.healthy() for w in cluster.workers):  # Ray restarted the killed actor
        assert time.monotonic() < deadline


def test_a_missing_bank_in_reuse_only_mode_is_an_error(
    cluster: ClusterStoryEngine, tmp_path: Path
) -> None:
    request = request_in(tmp_path, seed=77)  # banks no actor has made
    reads = tuple(p for p in request.panels if p.characters and p.label.startswith("3"))
    reuse = dataclasses.replace(request, panels=reads, reuse_only=True)
    delivered: list[GeneratedImage] = []
    with pytest.raises(BankMissing, match=r"identity bank of \w+ is missing"):
        cluster.generate(reuse, on_image=delivered.append)
    assert delivered == []  # no identity run inside the read
    assert not Path(str(request.cache_dir)).exists()


def test_cancel_reaches_the_running_actors(cluster: ClusterStoryEngine, tmp_path: Path) -> None:
    stop = threading.Event()

    def cancel_in_read(progress: Progress) -> None:
        if progress.phase == "panels":
            stop.set()

    delivered: list[GeneratedImage] = []
    with pytest.raises(Cancelled):
        cluster.generate(
            request_in(tmp_path), progress=cancel_in_read, cancelled=stop, on_image=delivered.append
        )
    assert len(delivered) < 12
    assert all(w.current is None for w in cluster.workers)  # every task ended


def test_generate_with_a_relative_project_path(
    cluster: ClusterStoryEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The banks land in the project's cache, whatever folder the actors run in."""
    shutil.copytree(SAMPLE, tmp_path / "story.storyboard")
    monkeypatch.chdir(tmp_path)
    argv = ["generate", "story.storyboard", "--steps", str(STEPS), "--ray", "local"]
    assert main([*argv, "--ray-actors", "2"]) == 0
    project = load_project(tmp_path / "story.storyboard").project
    assert all(len(p.candidates) == 1 for p in project.panels.values())  # no duplicates
    banks = list((tmp_path / "story.storyboard" / "cache" / "identity").iterdir())
    assert len(banks) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["story.storyboard"]
    assert ray.is_initialized()  # the command left the module's cluster running


def test_banks_of_a_story_without_a_project_folder_leave_no_temp_folder(
    cluster: ClusterStoryEngine, tmp_path: Path
) -> None:
    """A request without a project (cache_dir None, as from a script) shares its banks through
    one temporary folder of the engine: reused by the next request, removed at shutdown."""
    engine = ClusterStoryEngine("local", actors=1, threads=1)  # on the module's running cluster
    try:
        request = dataclasses.replace(request_in(tmp_path), cache_dir=None)
        first = request.panels[:3]
        images = engine.generate(dataclasses.replace(request, panels=first))
        assert engine.last_banks is not None and engine.last_banks.record is not None
        folder = Path(engine.last_banks.record)
        made = sorted(p.name for p in folder.iterdir())
        assert made  # the banks the first request wrote
        engine.generate(dataclasses.replace(request, panels=request.panels[3:4]))
        assert engine.last_banks.record == str(folder)  # the same folder, read again
        assert sorted(p.name for p in folder.iterdir())[: len(made)] == made
    finally:
        engine.shutdown()
    assert not folder.exists()
    assert ray.is_initialized()  # the module's cluster keeps running
    assert {p.panel_id for p in first} <= {i.job.panel_id for i in images}  # (with identity)
