"""StoryEngine on tiny random SDXL / SD1.5 folders: phases, banks, seeds, cancel, errors."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest
from test_bank_metadata import rewrite_metadata

from inference.csa.state import Mode
from inference.engine.story_engine import GeneratedImage, Progress, StoryEngine
from inference.errors import BankMissing, Cancelled, GenerationError, OutOfMemory
from storyboard.core.jobs import CharacterJob, PanelJob, PanelRequest, Sampling, StoryRequest
from tests.fixtures.engine_helpers import differ, pixels, save_tiny

STEPS = 3
SAMPLING = Sampling(64, 64, STEPS, 5.0, fit_to_model=False)
IDS = tuple(
    PanelJob(
        f"i{n}",
        f"1{chr(65 + n)}",
        f"hero {pose}",
        "blurry",
        seed=n,
        style="none",
        characters=("hero",),
    )
    for n, pose in enumerate(["standing", "running", "sitting"])
)
WAVES = PanelJob("r1", "2A", "hero waves at the sea", "dark", 11, "none", ("hero",))
STREET = PanelJob("r2", "2B", "an empty street", "", 12, "none")
HERO = CharacterJob("hero", "Hero", seed=5, identity_panels=IDS)


@pytest.fixture(scope="module")
def sdxl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny("sdxl", tmp_path_factory.mktemp("models") / "tiny-sdxl")


@pytest.fixture(scope="module")
def engine(sdxl_dir: Path) -> StoryEngine:
    engine = StoryEngine(str(sdxl_dir), preview_every=2)
    engine.load()
    return engine


def story(model: Path, cache: Path | None, *panels: PanelJob, **kw: Any) -> StoryRequest:
    fields: dict[str, Any] = {
        "model": str(model),
        "sampling": SAMPLING,
        "panels": panels or (*IDS, WAVES, STREET),
        "characters": (HERO,),
        "cache_dir": str(cache) if cache else None,
        **kw,
    }
    return StoryRequest(**fields)


def run(
    engine: StoryEngine, request: Any, **kw: Any
) -> tuple[list[GeneratedImage], list[Progress]]:
    seen: list[Progress] = []
    delivered: list[GeneratedImage] = []
    out = engine.generate(request, progress=seen.append, on_image=delivered.append, **kw)
    assert [i.job.panel_id for i in out] == [i.job.panel_id for i in delivered]
    return out, seen


# ---------------------------------------------------------------------------------- story
def test_story_runs_identity_panels_then_the_rest_and_saves_the_bank(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path
) -> None:
    images, seen = run(engine, story(sdxl_dir, tmp_path / "cache"))
    assert [(i.job.label, i.identity_of) for i in images] == [
        ("1A", "hero"),
        ("1B", "hero"),
        ("1C", "hero"),
        ("2A", None),
        ("2B", None),
    ]
    assert all(pixels(i.png).shape == (64, 64, 3) for i in images)
    assert images[3].settings["identity_panel"] is False and images[0].settings["steps"] == STEPS
    assert len(list((tmp_path / "cache").glob("hero-*.safetensors"))) == 1

    steps = [(p.phase, p.labels, p.step) for p in seen if p.phase != "loading"]
    assert steps[:4] == [("identity", ("1A", "1B", "1C"), s) for s in range(4)]
    # read panels are batched by the characters they show (plan_story), so each batch reads one
    # set of banks: the hero's panel, then the empty street
    assert steps[4:] == [
        *[("panels", ("2A",), s) for s in range(4)],
        *[("panels", ("2B",), s) for s in range(4)],
    ]
    previews = [p for p in seen if p.previews]
    assert [p.step for p in previews] == [2, 2, 2]  # every 2nd step, never the last
    assert len(previews[0].previews) == 3 and previews[1].previews[0].size == (32, 32)
    assert seen[-1].images_total == 5 and seen[-1].images_done == 4


def test_a_single_panel_days_later_reads_the_saved_bank(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first, _ = run(engine, story(sdxl_dir, cache))
    later = StoryEngine(str(sdxl_dir))  # a new session: nothing in memory
    request = PanelRequest(str(sdxl_dir), SAMPLING, WAVES, (HERO,), str(cache))
    again, _ = run(later, request)
    assert [i.job.label for i in again] == ["2A"]  # no identity phase
    assert differ(again[0].png, first[3].png) <= 2  # same image as in the batched story run

    # the identity panels changed: the stale bank is not used, the identity phase runs again
    changed = dataclasses.replace(HERO, identity_panels=(IDS[0], IDS[1]))
    request = PanelRequest(str(sdxl_dir), SAMPLING, WAVES, (changed,), str(cache))
    rerun, _ = run(later, request)
    assert [i.job.label for i in rerun] == ["1A", "1B", "2A"]
    assert len(list(cache.glob("hero-*.safetensors"))) == 1  # the cache keeps the newest only


def test_the_bank_file_is_written_beside_the_next_panels_and_in_place_when_the_job_ends(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The panels after an identity phase need the bank in memory, not its file: the file's
    write starts once the bank is made, beside their denoising (here the panels wait until it
    has started), and the job ends with the file in place."""
    from inference.bank import identity_bank

    delivered: list[GeneratedImage] = []
    when_written: list[int] = []
    started = threading.Event()
    write_file = identity_bank.write_bank_file

    def counting_write(*args: Any) -> None:
        when_written.append(len(delivered))
        started.set()
        write_file(*args)

    def progress(p: Progress) -> None:
        if p.phase == "panels" and p.step == 0:
            assert started.wait(timeout=60), "the bank's save did not start beside the panels"

    monkeypatch.setattr(identity_bank, "write_bank_file", counting_write)
    cache = tmp_path / "cache"
    engine.generate(story(sdxl_dir, cache), progress=progress, on_image=delivered.append)
    assert when_written == [3]  # after the 3 identity panels, before the 2 others
    assert len(delivered) == 5
    assert len(list(cache.glob("hero-*.safetensors"))) == 1
    assert not list(cache.glob("*.tmp"))
    later = StoryEngine(str(sdxl_dir))
    again, _ = run(later, PanelRequest(str(sdxl_dir), SAMPLING, WAVES, (HERO,), str(cache)))
    assert [i.job.label for i in again] == ["2A"]  # the file is a usable bank


def test_an_unwritable_bank_folder_is_a_warning_not_a_failed_job(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    images, _ = run(engine, story(sdxl_dir, blocker / "cache"))
    assert len(images) == 5
    assert "could not save the identity bank" in caplog.text


def test_a_damaged_saved_bank_is_made_again_not_a_failed_job(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    run(engine, story(sdxl_dir, cache))
    (saved,) = cache.glob("hero-*.safetensors")
    saved.write_bytes(saved.read_bytes()[:-64])  # the disk filled up while it was written
    later = StoryEngine(str(sdxl_dir))
    request = PanelRequest(str(sdxl_dir), SAMPLING, WAVES, (HERO,), str(cache))
    again, _ = run(later, request)
    assert [i.job.label for i in again] == ["1A", "1B", "1C", "2A"]


@pytest.mark.parametrize(
    "changes", [{"latent_size": "5"}, {"key": '{"model": "tiny"}'}], ids=["latent", "key"]
)
def test_a_bank_file_with_malformed_metadata_is_made_again_not_a_failed_job(
    engine: StoryEngine,
    sdxl_dir: Path,
    tmp_path: Path,
    changes: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bad latent_size or key raised TypeError out of the bank cache and failed the job."""
    cache = tmp_path / "cache"
    run(engine, story(sdxl_dir, cache))
    (saved,) = cache.glob("hero-*.safetensors")
    rewrite_metadata(saved, **changes)
    later = StoryEngine(str(sdxl_dir))
    again, _ = run(later, PanelRequest(str(sdxl_dir), SAMPLING, WAVES, (HERO,), str(cache)))
    assert [i.job.label for i in again] == ["1A", "1B", "1C", "2A"]
    assert "damaged or not an identity bank" in caplog.text
    (remade,) = cache.glob("hero-*.safetensors")  # made again, the malformed file gone
    assert remade.read_bytes() != b""


def test_seeds_reproduce_images_and_each_panel_owns_its_noise(
    engine: StoryEngine, sdxl_dir: Path
) -> None:
    first, _ = run(engine, story(sdxl_dir, None))
    second, _ = run(engine, story(sdxl_dir, None))
    assert [i.png for i in first] == [i.png for i in second]
    reseeded = dataclasses.replace(STREET, seed=99)
    third, _ = run(engine, story(sdxl_dir, None, *IDS, WAVES, reseeded))
    assert differ(third[4].png, first[4].png) > 10  # the reseeded panel changed
    assert differ(third[3].png, first[3].png) <= 2  # its batch mate did not


def test_cancel_stops_within_a_step_keeps_delivered_images_and_engine_stays_usable(
    engine: StoryEngine, sdxl_dir: Path
) -> None:
    flag = {"stop": False}
    steps_after: list[int] = []

    def progress(p: Progress) -> None:
        if flag["stop"]:
            steps_after.append(p.step)
        if p.phase == "panels" and p.step == 1:
            flag["stop"] = True

    delivered: list[GeneratedImage] = []
    with pytest.raises(Cancelled, match="after 3 image") as info:
        engine.generate(
            story(sdxl_dir, None),
            progress=progress,
            cancelled=lambda: flag["stop"],
            on_image=delivered.append,
        )
    assert info.value.done == 3 and [i.job.label for i in delivered] == ["1A", "1B", "1C"]
    assert steps_after == []  # not one more step was reported
    assert engine.story is not None and engine.story.mode is Mode.OFF
    images, _ = run(engine, story(sdxl_dir, None, STREET, characters=()))
    assert len(images) == 1


def test_a_cancelled_story_keeps_its_bank_and_does_not_wait_for_the_file(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling after the identity phase returns at once; the bank's file is still written
    (here its write holds until the cancel has returned), so the work is not lost."""
    from inference.bank import identity_bank

    cancel_returned = threading.Event()
    returned_first: list[bool] = []
    write_file = identity_bank.write_bank_file

    def slow_write(*args: Any) -> None:
        returned_first.append(cancel_returned.wait(timeout=60))
        write_file(*args)

    monkeypatch.setattr(identity_bank, "write_bank_file", slow_write)
    flag = {"stop": False}

    def progress(p: Progress) -> None:
        flag["stop"] = flag["stop"] or (p.phase == "panels" and p.step == 1)

    cache = tmp_path / "cache"
    with pytest.raises(Cancelled):
        engine.generate(story(sdxl_dir, cache), progress=progress, cancelled=lambda: flag["stop"])
    cancel_returned.set()
    engine.banks.wait()
    assert returned_first == [True]
    later = StoryEngine(str(sdxl_dir))
    again, _ = run(later, PanelRequest(str(sdxl_dir), SAMPLING, WAVES, (HERO,), str(cache)))
    assert [i.job.label for i in again] == ["2A"]  # read from the saved bank


def test_out_of_memory_is_explained_and_the_engine_recovers(
    engine: StoryEngine, sdxl_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*_a: Any, **_k: Any) -> Any:  # as torch's CPU allocator says it
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
            "memory: you tried to allocate 51200000000 bytes. Error code 12"
        )

    with monkeypatch.context() as patch:
        patch.setattr(engine.pipe.unet, "forward", exhausted)
        with pytest.raises(OutOfMemory, match=r"on cpu while .* lower the image size") as caught:
            engine.generate(story(sdxl_dir, None))
    assert "low-VRAM" not in str(caught.value)  # a GPU mode, no help on the CPU
    assert engine.story is not None and engine.story.mode is Mode.OFF
    images, _ = run(engine, story(sdxl_dir, None, STREET, characters=()))
    assert len(images) == 1


def test_characters_with_different_rates_in_one_panel_are_refused_before_any_work(
    engine: StoryEngine, sdxl_dir: Path
) -> None:
    other = CharacterJob("ada", "Ada", 3, (dataclasses.replace(IDS[0], panel_id="a0"),), 0.3, 0.3)
    both = dataclasses.replace(WAVES, characters=("hero", "ada"))
    with pytest.raises(GenerationError, match=r"panel 2A .* different identity sampling rates"):
        engine.generate(story(sdxl_dir, None, both, characters=(HERO, other)))


# ---------------------------------------------------------------------------------- batches
def test_no_more_panels_than_the_batch_size_are_denoised_together(
    engine: StoryEngine, sdxl_dir: Path
) -> None:
    """``--batch-size`` caps the memory a run takes: five panels with a batch size of 2 run as
    2 + 2 + 1, never 3 at once, and each image is the one its seed gives alone."""
    streets = tuple(
        dataclasses.replace(STREET, panel_id=f"s{n}", label=f"3{n}", seed=20 + n) for n in range(5)
    )
    images, seen = run(engine, story(sdxl_dir, None, *streets, characters=(), batch_size=2))
    batches = [p.labels for p in seen if p.phase == "panels" and p.step == 0]
    assert batches == [("30", "31"), ("32", "33"), ("34",)]
    assert [i.job.label for i in images] == ["30", "31", "32", "33", "34"]
    alone, _ = run(engine, story(sdxl_dir, None, streets[2], characters=(), batch_size=1))
    assert differ(alone[0].png, images[2].png) <= 2


def test_batches_group_panels_by_the_characters_they_show(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path
) -> None:
    """Plain panels, Ada's and the hero's each make batches of their own (one set of banks per
    batch: the fast CSA path). Each panel is then the image it is when regenerated alone."""
    ada_id = dataclasses.replace(IDS[0], panel_id="a0", label="1D", characters=("ada",))
    ada = CharacterJob("ada", "Ada", 3, (ada_id,), rate_low=0.3, rate_high=0.3)
    ada_waves = dataclasses.replace(WAVES, panel_id="r3", label="2C", characters=("ada",))
    cache = tmp_path / "cache"
    request = story(sdxl_dir, cache, STREET, ada_waves, WAVES, characters=(HERO, ada))
    images, seen = run(engine, request)
    batches = [p.labels for p in seen if p.phase == "panels" and p.step == 0]
    assert batches == [("2B",), ("2C",), ("2A",)]
    made = {i.job.label: i.png for i in images}
    for panel in (ada_waves, WAVES):
        request = PanelRequest(str(sdxl_dir), SAMPLING, panel, (HERO, ada), str(cache))
        alone, _ = run(engine, request)
        assert [i.job.label for i in alone] == [panel.label]  # read from the saved bank
        assert differ(alone[0].png, made[panel.label]) <= 2


def test_previews_come_every_nth_step_but_not_with_the_finished_image(
    engine: StoryEngine, sdxl_dir: Path
) -> None:
    """With previews every 2nd step of 4, the queue gets one rough preview (step 2), one per
    panel of the batch; at step 4 the real image arrives instead, so no preview is decoded."""
    four = dataclasses.replace(SAMPLING, steps=4)
    other = dataclasses.replace(STREET, panel_id="r3", label="2C", seed=13)
    _, seen = run(engine, story(sdxl_dir, None, STREET, other, characters=(), sampling=four))
    previews = [(p.step, len(p.previews)) for p in seen if p.previews]
    assert previews == [(2, 2)]
    assert [p.step for p in seen if p.phase == "panels"] == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------------------- options
def test_schedulers_freeu_and_sizes(engine: StoryEngine, sdxl_dir: Path) -> None:
    def one(**sampling: Any) -> GeneratedImage:
        s = dataclasses.replace(SAMPLING, **sampling)
        return run(engine, story(sdxl_dir, None, STREET, characters=(), sampling=s))[0][0]

    ddim = one()
    euler = one(scheduler="euler-a")
    dpm = one(scheduler="dpmpp-2m-karras")
    assert min(differ(ddim.png, euler.png), differ(ddim.png, dpm.png)) > 2
    assert differ(euler.png, one(scheduler="euler-a").png) == 0  # ancestral noise is seeded too
    assert differ(ddim.png, one(freeu=True).png) > 2
    odd = one(width=70, height=50)  # rounded to what the tiny UNet takes (multiples of 8)
    assert (odd.width, odd.height) == (72, 48) and pixels(odd.png).shape == (48, 72, 3)


def test_sd15_folder_story(tmp_path: Path) -> None:
    folder = save_tiny("sd15", tmp_path / "tiny-sd15")
    engine = StoryEngine(str(folder))
    hero = dataclasses.replace(HERO, identity_panels=IDS[:2])
    images, _ = run(engine, story(folder, tmp_path / "cache", *IDS[:2], WAVES, characters=(hero,)))
    assert [(i.job.label, i.identity_of) for i in images] == [
        ("1A", "hero"),
        ("1B", "hero"),
        ("2A", None),
    ]
    assert engine.model is not None and engine.model.kind == "sd15"


def test_a_reuse_only_read_without_its_bank_is_an_error_not_an_identity_run(
    engine: StoryEngine, sdxl_dir: Path, tmp_path: Path
) -> None:
    """A cluster's read task may only read banks: a missing one would otherwise silently run
    the identity phase inside the read (duplicate images, a bank in the wrong place)."""
    cache = tmp_path / "cache"
    request = story(sdxl_dir, cache, WAVES, reuse_only=True)
    delivered: list[GeneratedImage] = []
    fresh = StoryEngine(str(sdxl_dir))  # the module's engine may hold the bank in memory
    with pytest.raises(BankMissing, match="identity bank of Hero is missing"):
        fresh.generate(request, on_image=delivered.append)
    assert delivered == [] and not cache.exists()
    run(engine, story(sdxl_dir, cache, *IDS))  # the identity task
    images, _ = run(StoryEngine(str(sdxl_dir)), request)  # another session: from the file
    assert [i.job.label for i in images] == ["2A"]
