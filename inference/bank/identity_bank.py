"""The identity bank: sampled reference tokens of one character, per CSA layer and denoising step.

Written while a character's identity panels are generated, read by every later panel that shows the
character. Layout and size (why it is smaller than the official bank):

* one tensor per (layer, step) **only where the CSA gate fires** (the gate table is shared by write
  and read, so other entries can never be read; step 0 is never stored);
* shape ``(G, n * k, C)``: G CFG halves (2, or 1 without CFG), n identity images, k = round(rate*N)
  sampled tokens each, C channels; the tokens are the layer's *input* hidden states (half the size
  of projected keys + values; the read phase re-projects them, which costs little);
* on a GPU, encoded as 8-bit floats with a scale per token (:mod:`inference.bank.codec`), so one
  byte per value whatever the pipeline dtype; elsewhere in the pipeline dtype (``encode_on``).

Size = sum over stored (layer, step) of ``G * n * k * (C + 4)`` bytes. For SDXL at 1024 px, 4
images, 30 steps, rate 0.5 and the default gate (expected 22.3 of 30 steps stored) that is about
4.6 GiB (9.1 GiB in fp16; the official bank keeps every step: 12.3 GiB). To keep the GPU free,
``offload=True`` stores the bank in pinned CPU memory (writes copy out on a side CUDA stream) and
``prefetch(entries)`` copies the entries of one denoising step back, layer by layer in call
order, on that side stream; each layer waits only for its own copy.

``save``/``load`` use safetensors plus a :class:`BankKey` so that a bank is never used with settings
it was not made for. A loaded bank (unless offloaded) is read in the background in step order
(:mod:`inference.bank.stream`), so a panel can start denoising before its bank is all there.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch

from inference.bank import codec as bank_codec
from inference.bank.key import BankKey, BankMismatchError
from inference.bank.pinned import StepBuffers
from inference.bank.stream import BankStream, entry_name, stored_entries
from inference.bank.writer import write_bank_file

logger = logging.getLogger(__name__)

FORMAT = "storyboard-identity-bank/3"
"""/2: entries named step first, so each step is one byte range of the file. /3: entries encoded
(:mod:`inference.bank.codec`). Older files are refused like any stale bank, and made again."""


class IdentityBank:
    """Sampled tokens of one character's identity panels, keyed by (layer name, step)."""

    encode_on: frozenset[str] = frozenset({"cuda"})
    """Device types whose entries are stored encoded (:mod:`inference.bank.codec`, half an fp16
    bank). Not the CPU: a CPU model is small (its bank too), and the encoding made a 4-panel
    story of the toy model about 10% slower there. Benchmarks and tests change it."""

    @classmethod
    @contextlib.contextmanager
    def encoded_on(cls, device_types: Iterable[str]) -> Iterator[None]:
        """Encode the entries of banks made on these device types for a while (benchmarks)."""
        kept, cls.encode_on = cls.encode_on, frozenset(device_types)
        try:
            yield
        finally:
            cls.encode_on = kept

    def __init__(
        self,
        character: str,
        *,
        num_images: int,
        num_steps: int,
        latent_size: tuple[int, int],
        cfg: bool,
        csa: str,
        key: BankKey | None = None,
        offload: bool = False,
    ) -> None:
        self.character = character
        self.num_images = num_images
        self.num_steps = num_steps
        self.latent_size = (int(latent_size[0]), int(latent_size[1]))
        self.cfg = cfg
        self.csa = csa
        self.key = key
        self.offload = offload
        self.complete = True
        """False when the write that filled the bank stopped early (cancelled): unusable."""
        self._entries: dict[tuple[str, int], torch.Tensor] = {}
        self._pinned: StepBuffers | None = None
        self._side: torch.cuda.Stream | None = None
        self._staged: dict[tuple[str, int], tuple[torch.Tensor, torch.cuda.Event]] = {}
        self._stream: BankStream | None = None
        """The background read of a bank loaded from its file (see :meth:`load`); its entries
        are served from there until :meth:`_settle` makes them plain entries."""

    # ------------------------------------------------------------------ properties
    @property
    def groups(self) -> int:
        """Number of CFG halves stored (2 with classifier-free guidance, else 1)."""
        return 2 if self.cfg else 1

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored tokens (wherever they live)."""
        if self._stream is not None:
            return sum(e.nbytes for e in self._stream.entries.values())
        return sum(t.numel() * t.element_size() for t in self._entries.values())

    def __len__(self) -> int:
        return len(self._stream.entries if self._stream is not None else self._entries)

    def entries(self) -> Iterable[tuple[str, int]]:
        """The stored (layer, step) pairs, in write order."""
        return (self._stream.entries if self._stream is not None else self._entries).keys()

    @property
    def stream_seconds(self) -> tuple[float, float] | None:
        """For a bank still streamed in from its file: (seconds the whole read took, 0 while
        reading; seconds reads waited for it). None otherwise. For benchmarks."""
        if self._stream is None:
            return None
        return (self._stream.read_seconds, self._stream.waited_seconds)

    def _settle(self) -> None:
        """Wait for a streamed load to end; the entries are then plain tensors on the GPU."""
        if self._stream is not None:
            self._entries = self._stream.join()
            self._stream = None

    # ------------------------------------------------------------------ writing
    def plan_offload(
        self, layout: dict[int, list[tuple[str, tuple[int, ...]]]], dtype: torch.dtype
    ) -> None:
        """Announce the entries the write will produce, per step, with their shapes.

        With offload, their pinned CPU buffers are then made by a background thread, one exact-size
        buffer per step, while the GPU works (see :mod:`inference.bank.pinned`).
        """
        if self.offload and torch.cuda.is_available():
            shapes = [shape for entries in layout.values() for _, shape in entries]
            if all(self._encodes(torch.device("cuda"), s[-1]) for s in shapes):
                layout = {
                    step: [(layer, bank_codec.stored_shape(shape)) for layer, shape in entries]
                    for step, entries in layout.items()
                }
                dtype = bank_codec.STORED
            self._pinned = StepBuffers(layout, dtype)

    def _encodes(self, device: torch.device, channels: int) -> bool:
        """Whether an entry of this many channels made on ``device`` is stored encoded."""
        return device.type in self.encode_on and bank_codec.encodes(device, channels)

    def put(self, layer: str, step: int, tokens: torch.Tensor) -> None:
        """Store ``tokens`` (shape ``(G, n*k, C)``, a fresh tensor the caller will not modify)."""
        if tokens.shape[0] != self.groups:
            raise ValueError(f"bank expects {self.groups} CFG groups, got {tokens.shape[0]}")
        if self._encodes(tokens.device, tokens.shape[-1]):
            tokens = bank_codec.encode(tokens.detach())
        if not (self.offload and tokens.is_cuda):
            self._entries[(layer, step)] = tokens.detach()
            return
        dst = self._pinned_slot(layer, step, tokens)
        side = self._side_stream(tokens.device)
        side.wait_stream(torch.cuda.current_stream(tokens.device))
        with torch.cuda.stream(side):
            dst.copy_(tokens.detach(), non_blocking=True)
        tokens.record_stream(side)
        self._entries[(layer, step)] = dst

    def finish(self) -> None:
        """Wait until every offloaded write has landed (call once the write pass is over)."""
        if self._side is not None:
            self._side.synchronize()
        if self._pinned is not None:
            self._pinned.join(stop=True)

    def _pinned_slot(self, layer: str, step: int, tokens: torch.Tensor) -> torch.Tensor:
        planned = self._pinned.view(layer, step, tokens.shape) if self._pinned else None
        if planned is not None and planned.dtype == tokens.dtype:
            return planned
        return torch.empty(tokens.shape, dtype=tokens.dtype, pin_memory=True)

    @property
    def pinning_seconds(self) -> tuple[float, float]:
        """(seconds the background thread spent pinning, seconds writes waited for it)."""
        if self._pinned is None:
            return (0.0, 0.0)
        return (self._pinned.alloc_seconds, self._pinned.wait_seconds)

    def _side_stream(self, device: torch.device) -> torch.cuda.Stream:
        if self._side is None or self._side.device != device:
            self._side = torch.cuda.Stream(device=device)
        return self._side

    # ------------------------------------------------------------------ reading
    def has(self, layer: str, step: int) -> bool:
        """Whether an entry exists for this layer and step."""
        return (layer, step) in self.entries()

    def entry_length(self, layer: str, step: int) -> int:
        """Number of stored tokens (n * k) of an entry, without moving it."""
        if self._stream is not None:
            return self._stream.entries[(layer, step)].shape[1]
        return int(self._entries[(layer, step)].shape[1])

    def prefetch(self, entries: Iterable[tuple[str, int]], device: torch.device) -> None:
        """Start copying the (layer, step) ``entries`` one denoising step reads to ``device``, in
        order, on a side stream.

        ``entries`` follow the layers' call order, so the first layer's copy is issued (and done)
        first. Does nothing when the bank already lives on ``device`` (or on a CPU-only machine).
        Drops the previous step's copies, so at most one step of the bank is on the GPU at a time.
        """
        self._staged.clear()
        if device.type != "cuda" or not self._entries:  # (a streamed bank has none yet)
            return
        side = self._side_stream(device)
        # No wait on the compute stream: the sources are host memory that nothing on the GPU
        # writes, and last step's copies were record_stream()-ed, so their memory is not reused
        # before the layers that read them are done.
        with torch.cuda.stream(side):
            for key in entries:
                stored = self._entries.get(key)
                if stored is None or stored.device == device:
                    continue
                copy = stored.to(device, non_blocking=True)
                event = torch.cuda.Event()
                event.record(side)
                self._staged[key] = (copy, event)

    def get(self, layer: str, step: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """The tokens of (layer, step) on ``device`` in ``dtype``; waits only for that layer's
        prefetch."""
        return bank_codec.decode(self.stored(layer, step, device), dtype)

    def stored(self, layer: str, step: int, device: torch.device) -> torch.Tensor:
        """The entry for (layer, step) on ``device`` as the bank keeps it (maybe encoded)."""
        if (layer, step) in self._staged:
            copy, event = self._staged[(layer, step)]
            current = torch.cuda.current_stream(device)
            current.wait_event(event)
            copy.record_stream(current)
            return copy
        if self._stream is not None and (layer, step) in self._stream.entries:
            return self._stream.take((layer, step))
        try:
            stored = self._entries[(layer, step)]
        except KeyError:
            raise BankMismatchError(
                f"identity bank of {self.character!r} has no entry for layer {layer} at step "
                f"{step}: it was made with other CSA settings, steps or model"
            ) from None
        return stored.to(device, non_blocking=stored.is_pinned())

    def release(self) -> None:
        """Drop staged GPU copies (end of a read pass)."""
        self._staged.clear()

    # ------------------------------------------------------------------ checks
    def check_compatible(
        self, *, num_steps: int, latent_size: tuple[int, int], cfg: bool, csa: str
    ) -> None:
        """Raise :class:`BankMismatchError` unless a read with these settings can use the bank."""
        problems = []
        if not self.complete:
            problems.append("its identity panels were not generated to the end (cancelled?)")
        if num_steps != self.num_steps:
            problems.append(f"steps: bank {self.num_steps}, now {num_steps}")
        if tuple(latent_size) != self.latent_size:
            problems.append(f"latent size: bank {self.latent_size}, now {tuple(latent_size)}")
        if cfg != self.cfg:
            problems.append(f"guidance (CFG): bank {self.cfg}, now {cfg}")
        if csa != self.csa:
            problems.append(f"CSA settings: bank {self.csa}, now {csa}")
        if problems:
            raise BankMismatchError(
                f"identity bank of {self.character!r} cannot be used here; regenerate the "
                f"character's identity panels. Differences: " + "; ".join(problems)
            )

    def check_key(self, expected: BankKey) -> None:
        """Raise :class:`BankMismatchError` unless this bank was made under ``expected``."""
        if self.key is None:
            raise BankMismatchError(
                f"identity bank of {self.character!r} has no key; cannot verify it"
            )
        diffs = self.key.differences(expected)
        if diffs:
            raise BankMismatchError(
                f"identity bank of {self.character!r} was made for different settings "
                f"(bank != requested): " + "; ".join(diffs)
            )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the bank to a safetensors file (settings in its metadata)."""
        self.saver(path)()

    def saver(self, path: str | Path) -> Callable[[], None]:
        """What :meth:`save` does, split for a background save: the returned call writes the
        file and may run on another thread, with the denoising going on beside it.

        Called on the thread that wrote the bank: it ends the write and marks the point in that
        thread's CUDA stream after which the entries are final, which the file's copies wait for.
        """
        self.finish()
        self._settle()
        tensors = {entry_name(layer, step): t for (layer, step), t in self._entries.items()}
        meta = {
            "format": FORMAT,
            "character": self.character,
            "num_images": str(self.num_images),
            "num_steps": str(self.num_steps),
            "latent_size": json.dumps(list(self.latent_size)),
            "cfg": json.dumps(self.cfg),
            "csa": self.csa,
            "complete": json.dumps(self.complete),
            "key": self.key.as_json() if self.key is not None else "",
            "digest": self.key.digest() if self.key is not None else "",
        }
        ready = None
        on_gpu = {t.device for t in tensors.values() if t.is_cuda}
        if on_gpu:
            ready = torch.cuda.Event()
            ready.record(torch.cuda.current_stream(next(iter(on_gpu))))
        target, name, count = Path(path), self.character, len(tensors)

        def write() -> None:
            write_bank_file(target, tensors, meta, ready)
            logger.info("saved identity bank %r (%d entries) to %s", name, count, target)

        return write

    @classmethod
    def _from_metadata(cls, meta: dict[str, str], offload: bool) -> IdentityBank:
        """An empty bank from a file's metadata; raises ValueError, TypeError, KeyError... when
        a field is missing or of the wrong shape."""
        key = BankKey.from_json(meta["key"]) if meta.get("key") else None
        latent_size = json.loads(meta["latent_size"])
        if not (isinstance(latent_size, list) and len(latent_size) == 2):
            raise ValueError(f"latent_size is {meta['latent_size']!r}, not [height, width]")
        bank = cls(
            str(meta["character"]),
            num_images=int(meta["num_images"]),
            num_steps=int(meta["num_steps"]),
            latent_size=(int(latent_size[0]), int(latent_size[1])),
            cfg=bool(json.loads(meta["cfg"])),
            csa=str(meta["csa"]),
            key=key,
            offload=offload,
        )
        bank.complete = bool(json.loads(meta.get("complete", "true")))
        return bank

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        expect: BankKey | None = None,
        device: str | torch.device = "cpu",
        offload: bool = False,
    ) -> IdentityBank:
        """Read a bank saved by :meth:`save`.

        With ``expect``, refuse (:class:`BankMismatchError`) a bank made under another key. With
        ``offload`` and a CUDA ``device``, keep the tokens in pinned CPU memory for prefetching.
        Otherwise the tokens are read onto ``device`` in the background, in step order
        (:mod:`inference.bank.stream`): the method returns at once and a read waits only for
        the entries of its step.
        """
        from safetensors import SafetensorError, safe_open

        device = torch.device(device)
        try:
            opened = safe_open(str(path), framework="pt", device="cpu")
        except SafetensorError as exc:  # cut short by a full disk, or not a bank at all
            raise BankMismatchError(f"{path} is damaged or not an identity bank: {exc}") from exc
        with opened as handle:
            meta = handle.metadata() or {}
            if meta.get("format") != FORMAT:
                raise BankMismatchError(f"{path} is not an identity bank ({FORMAT})")
            try:
                bank = cls._from_metadata(meta, offload)
            except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
                # metadata of the wrong shape: a damaged file, or not one we wrote
                raise BankMismatchError(
                    f"{path} is damaged or not an identity bank: bad metadata "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            if expect is not None:
                bank.check_key(expect)
            if not (offload and device.type == "cuda"):
                # Read in the background, step by step, while the panel denoises.
                bank._stream = BankStream(Path(path), stored_entries(Path(path)), device)
                logger.info("reading identity bank %r from %s", bank.character, path)
                return bank
            for entry in stored_entries(Path(path)):
                name = entry_name(entry.layer, entry.step)
                bank._entries[(entry.layer, entry.step)] = handle.get_tensor(name).pin_memory()
        logger.info("loaded identity bank %r (%d entries) from %s", bank.character, len(bank), path)
        return bank
