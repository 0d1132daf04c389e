"""The tensor names and shapes of a checkpoint file, read without loading a tensor or running code.

A folder scan reads the header of every ``.safetensors`` and ``.ckpt`` it finds, so this must be
cheap and safe on anything a folder holds: a multi-gigabyte model, a truncated download, a FIFO or
a device file behind a link, a file crafted to attack the reader.

* ``.safetensors``: 8 bytes (little-endian header length), then that much JSON, nothing else is
  read (plain ``json`` + ``struct``, no safetensors or torch).
* ``.ckpt`` (a zip written by ``torch.save``): its ``data.pkl`` is walked by a small pickle reader
  that only builds tuples, lists, dicts and strings and records the globals the pickle names:
  nothing is imported or called. A global outside the few a tensor file needs (the tensor and
  storage rebuilders, ``OrderedDict``) is listed in :attr:`TensorIndex.unsafe_globals`, and the
  file is refused; loading itself goes through ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import io
import json
import os
import pickletools
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_HEADER = 64 * 1024 * 1024
"""Largest safetensors header read (a real SDXL checkpoint's is about 200 KB)."""
MAX_PICKLE = 64 * 1024 * 1024
"""Largest ``data.pkl`` read from a ``.ckpt`` (a real one's is a few MB)."""
SAFE_GLOBALS = frozenset(
    {
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        *(
            ("torch", f"{kind}Storage")
            for kind in ("Float", "Half", "BFloat16", "Double", "Long", "Int", "Short")
        ),
        *(("torch", f"{kind}Storage") for kind in ("Char", "Byte", "Bool")),
    }
)
"""What ``torch.save`` of a plain state dict names (``torch.load(weights_only=True)`` allows
these and a few more)."""


class UnreadableCheckpoint(Exception):
    """The file is not a checkpoint this reader understands; the message says why, in words."""


@dataclass(frozen=True, slots=True)
class TensorIndex:
    """A checkpoint's tensor names with their shapes (an empty shape where it is unknown)."""

    shapes: dict[str, tuple[int, ...]]
    metadata: dict[str, str] = field(default_factory=dict)
    unsafe_globals: tuple[str, ...] = ()  # a .ckpt's pickle names code beyond tensors

    def shape(self, name: str) -> tuple[int, ...] | None:
        return self.shapes.get(name)


def read_index(path: Path) -> TensorIndex:
    """The tensor index of ``path`` by its suffix; :class:`UnreadableCheckpoint` says why not."""
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return read_safetensors_header(path)
    if suffix == ".ckpt":
        return read_ckpt_index(path)
    raise UnreadableCheckpoint(f"{path.name} is neither .safetensors nor .ckpt")


def _open_regular(path: Path) -> io.BufferedReader:
    """Open ``path`` for reading only if it is a regular file (a FIFO would block, a device file
    never end): checked on the opened descriptor, so a swap between check and open is caught."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError as exc:
        raise UnreadableCheckpoint(f"{path.name} is missing (a broken link?)") from exc
    except PermissionError as exc:
        raise UnreadableCheckpoint(f"{path.name} cannot be read (permission denied)") from exc
    except OSError as exc:
        raise UnreadableCheckpoint(f"{path.name} cannot be opened ({exc.strerror})") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnreadableCheckpoint(f"{path.name} is not a regular file")
    return os.fdopen(fd, "rb")


def read_safetensors_header(path: Path) -> TensorIndex:
    try:
        with _open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(8)
            if len(head) < 8:
                raise UnreadableCheckpoint(f"{path.name} is too short to be a safetensors file")
            (length,) = struct.unpack("<Q", head)
            if length > min(MAX_HEADER, size - 8):
                raise UnreadableCheckpoint(
                    f"{path.name} is not a safetensors file (its header claims {length} bytes)"
                )
            raw = handle.read(length)
    except OSError as exc:
        raise UnreadableCheckpoint(f"{path.name} could not be read ({exc})") from exc
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UnreadableCheckpoint(f"{path.name} has a damaged safetensors header") from exc
    if not isinstance(header, dict):
        raise UnreadableCheckpoint(f"{path.name} has a damaged safetensors header")
    metadata = header.pop("__metadata__", None)
    shapes: dict[str, tuple[int, ...]] = {}
    for name, entry in header.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise UnreadableCheckpoint(f"{path.name} has a damaged entry for {name[:80]!r}")
        shapes[name] = tuple(shape)
    meta = (
        {str(k): str(v)[:2000] for k, v in metadata.items()} if isinstance(metadata, dict) else {}
    )
    return TensorIndex(shapes, meta)


# ---------------------------------------------------------------------------------- .ckpt
@dataclass(frozen=True, slots=True)
class _Global:
    module: str
    name: str


@dataclass(frozen=True, slots=True)
class _Call:
    function: Any
    args: Any


class _Mark:
    pass


def read_ckpt_index(path: Path) -> TensorIndex:
    """A ``torch.save`` zip's state dict names and shapes, read by :func:`_walk` (runs nothing)."""
    try:
        with _open_regular(path) as handle:
            if not zipfile.is_zipfile(handle):
                raise UnreadableCheckpoint(
                    f"{path.name} is an old-style pickle, not a torch zip checkpoint: it is not "
                    "read (convert it to .safetensors)"
                )
            with zipfile.ZipFile(handle) as archive:
                names = [i for i in archive.infolist() if i.filename.endswith("data.pkl")]
                if len(names) != 1 or names[0].file_size > MAX_PICKLE:
                    raise UnreadableCheckpoint(f"{path.name} is not a torch checkpoint")
                with archive.open(names[0]) as member:
                    data = member.read(MAX_PICKLE + 1)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise UnreadableCheckpoint(f"{path.name} could not be read ({exc})") from exc
    if len(data) > MAX_PICKLE:
        raise UnreadableCheckpoint(f"{path.name} is not a torch checkpoint")
    root, named = _walk(data, path.name)
    unsafe = tuple(sorted({f"{g.module}.{g.name}" for g in named} - _dotted(SAFE_GLOBALS)))
    state = root
    while isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UnreadableCheckpoint(f"{path.name} holds no state dict")
    shapes = {str(k): _tensor_shape(v) for k, v in state.items() if isinstance(k, str)}
    return TensorIndex(shapes, {}, unsafe)


def _dotted(pairs: frozenset[tuple[str, str]]) -> set[str]:
    return {f"{m}.{n}" for m, n in pairs}


def _tensor_shape(value: Any) -> tuple[int, ...]:
    """``_rebuild_tensor_v2(storage, offset, size, stride, ...)``'s size; () when not a tensor."""
    if isinstance(value, _Call) and value.function == _Global("torch._utils", "_rebuild_parameter"):
        return _tensor_shape(value.args[0]) if isinstance(value.args, tuple) and value.args else ()
    if isinstance(value, _Call) and isinstance(value.args, tuple) and len(value.args) > 2:
        size = value.args[2]
        if isinstance(size, tuple) and all(type(n) is int for n in size):
            return size
    return ()


_PUSH_ARG = {"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "BINFLOAT", "INT", "LONG", "FLOAT"}
_PUSH_ARG |= {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING"}
_PUSH_ARG |= {"SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8"}
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


def _walk(data: bytes, name: str) -> tuple[Any, list[_Global]]:  # noqa: PLR0915 (one flat interpreter loop)
    """Interpret the pickle's data opcodes only; any opcode outside them refuses the file."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    named: list[_Global] = []

    def pop_mark() -> list[Any]:
        for index in range(len(stack) - 1, -1, -1):
            if isinstance(stack[index], _Mark):
                items = stack[index + 1 :]
                del stack[index:]
                return items
        raise UnreadableCheckpoint(f"{name} has a damaged pickle")

    try:
        for opcode, arg, _ in pickletools.genops(data):
            op = opcode.name
            if op in ("PROTO", "FRAME"):
                continue
            if op == "STOP":
                return (stack[-1] if stack else None), named
            if op in _PUSH_ARG:
                stack.append(arg)
            elif op in _CONSTANTS:
                stack.append(_CONSTANTS[op])
            elif op == "MARK":
                stack.append(_Mark())
            elif op in ("EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE"):
                stack.append({} if op == "EMPTY_DICT" else [] if op == "EMPTY_LIST" else ())
            elif op in ("TUPLE1", "TUPLE2", "TUPLE3"):
                count = int(op[-1])
                items = stack[-count:]
                del stack[-count:]
                stack.append(tuple(items))
            elif op == "TUPLE":
                stack.append(tuple(pop_mark()))
            elif op in ("LIST", "DICT"):
                items = pop_mark()
                pairs = zip(items[::2], items[1::2], strict=False)
                stack.append(items if op == "LIST" else dict(pairs))
            elif op == "APPEND":
                value = stack.pop()
                stack[-1].append(value)
            elif op == "APPENDS":
                items = pop_mark()
                stack[-1].extend(items)
            elif op == "SETITEM":
                value, key = stack.pop(), stack.pop()
                _set(stack[-1], key, value)
            elif op == "SETITEMS":
                items = pop_mark()
                for key, value in zip(items[::2], items[1::2], strict=False):
                    _set(stack[-1], key, value)
            elif op in ("BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE"):
                memo[len(memo) if op == "MEMOIZE" else int(str(arg))] = stack[-1]
            elif op in ("BINGET", "LONG_BINGET", "GET"):
                stack.append(memo[int(str(arg))])
            elif op == "GLOBAL":
                module, _, attr = str(arg).partition(" ")
                named.append(_Global(module, attr))
                stack.append(named[-1])
            elif op == "STACK_GLOBAL":
                attr, module = stack.pop(), stack.pop()
                named.append(_Global(str(module), str(attr)))
                stack.append(named[-1])
            elif op in ("REDUCE", "NEWOBJ"):
                args, function = stack.pop(), stack.pop()
                ordered = function == _Global("collections", "OrderedDict")
                stack.append({} if ordered else _Call(function, args))
            elif op == "BUILD":
                stack.pop()  # state set on an object: nothing to keep
            elif op == "BINPERSID":
                stack.append(("persistent", stack.pop()))
            elif op == "POP":
                stack.pop()
            else:
                raise UnreadableCheckpoint(f"{name}'s pickle uses {op}, which is not read")
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableCheckpoint(f"{name} has a damaged pickle ({exc})") from exc
    raise UnreadableCheckpoint(f"{name} has a damaged pickle (no end)")


def _set(target: Any, key: Any, value: Any) -> None:
    if not isinstance(target, dict):
        raise TypeError("SETITEM on something that is not a dict")
    target[key] = value
