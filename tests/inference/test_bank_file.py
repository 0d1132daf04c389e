"""Reading bank files around the page cache (``O_DIRECT``), and falling back where refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inference.bank_stream import ALIGN, BankFile, aligned_buffer, aligned_range


@pytest.fixture
def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(5 * ALIGN + 123)  # not a whole number of blocks: the last read is short
    path = tmp_path / "bank.safetensors"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize(
    ("start", "size"), [(0, ALIGN), (17, 3 * ALIGN), (4 * ALIGN + 5, ALIGN + 118)]
)
def test_a_direct_read_of_any_range_gives_the_files_bytes(
    data_file: tuple[Path, bytes], start: int, size: int
) -> None:
    path, data = data_file
    begin, skip, length = aligned_range(start, size)
    assert begin % ALIGN == 0 and length % ALIGN == 0 and begin + skip == start
    buffer = aligned_buffer(length, pin=False)
    with BankFile(path, direct=True) as file:
        file.read(begin, buffer.numpy().data, need=skip + size)
    assert buffer[skip : skip + size].numpy().tobytes() == data[start : start + size]


def test_a_read_the_disk_refuses_to_do_directly_is_done_through_the_page_cache(
    data_file: tuple[Path, bytes],
) -> None:
    """A buffer off the block boundary makes a direct read fail (EINVAL); the file falls back to
    plain reads instead of failing the regenerate."""
    path, data = data_file
    buffer = aligned_buffer(ALIGN + 1, pin=False)[1:]
    with BankFile(path, direct=True) as file:
        file.read(ALIGN, buffer.numpy().data)
        assert not file.direct
    assert buffer.numpy().tobytes() == data[ALIGN : 2 * ALIGN]


def test_a_file_cut_short_is_an_error(data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    begin, skip, length = aligned_range(len(data) - 10, 20)
    with BankFile(path, direct=True) as file, pytest.raises(OSError, match="ended early"):
        file.read(begin, aligned_buffer(length, pin=False).numpy().data, need=skip + 20)
