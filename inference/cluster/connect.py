"""Reaching a Ray cluster: an optional dependency, imported only here and only when used.

``local`` starts a private cluster on this machine, bound to the loopback address only
(127.0.0.1: nothing on the network can reach it), with its session files under the system's temp
folder and a token made for this process held in the environment, so nothing is written into the
home folder (Ray's default writes a token to ``~/.ray/auth_token``). ``auto`` joins the cluster
already running on this machine (``ray start --head``) or named by ``RAY_ADDRESS``; any other text
is the address of a studio's cluster (``HOST:6379``, or ``ray://HOST:10001`` through Ray Client).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from inference.errors import GenerationError

logger = logging.getLogger(__name__)

INSTALL = "pip install 'storyboard-editor[cluster]'"
"""How to get Ray (the ``cluster`` extra of the package; ``uv sync --extra cluster`` in a clone)."""

LOOPBACK = "127.0.0.1"
LOCAL_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class ClusterUnavailable(GenerationError):
    """Ray is not installed, or the cluster cannot be reached; the message says what to do."""


def import_ray() -> ModuleType:
    """Ray, or :class:`ClusterUnavailable` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterUnavailable(
            f"generating on a Ray cluster needs Ray, which is not installed; install it with "
            f"{INSTALL}"
        ) from None
    return ray


def ray_available() -> bool:
    """Whether Ray can be imported here (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def temp_root() -> Path:
    """Where a local cluster keeps its session files (short: Ray's socket paths are limited)."""
    return Path(tempfile.gettempdir()) / f"storyboard-ray-{os.getuid()}"


def connect(address: str, *, num_cpus: int | None = None, num_gpus: int | None = None) -> Any:
    """The Ray module, connected to ``address`` (``local``, ``auto`` or a cluster's address)."""
    imported = "ray" in sys.modules
    if address == "local" and not (imported and import_ray().is_initialized()):
        # A token only this process and the workers it starts know, never written to disk;
        # Ray reads the mode when it is imported.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
        # Ray's "single machine" mode: every server (GCS, raylet, workers) listens on loopback
        # only; otherwise they listen on all addresses, even given 127.0.0.1 as the node's.
        os.environ[LOCAL_ONLY] = "0"
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report, no prompt
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if imported and address == "local":
        ray._raylet.Config.initialize("")  # read the mode set above
        ray._private.ray_constants.ENABLE_RAY_CLUSTER = False
    quiet: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    try:
        if address == "local":
            ray.init(
                address="local",
                num_cpus=num_cpus,
                num_gpus=num_gpus,
                include_dashboard=False,
                _node_ip_address=LOOPBACK,
                _temp_dir=str(temp_root()),
                **quiet,
            )
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "a local cluster" if address == "local" else f"the Ray cluster at {address!r}"
        cause = str(exc).rstrip(". ")
        raise ClusterUnavailable(
            f"could not reach {where}: {cause}. Start one with `ray start --head` "
            "(docs/cluster.md) or use --ray local"
        ) from exc
    logger.info("connected to Ray cluster %s: %s", address, ray.cluster_resources())
    return ray
