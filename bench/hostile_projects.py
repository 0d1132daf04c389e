"""Hostile projects: bundles whose ids, paths and links try to reach files outside their folder.

A project (or a Storyboarder folder) may come from someone else. Each :class:`Variant` turns a
copy of one ordinary, valid project into a hostile one: a traversal (``../``), an absolute path or
an odd name in one id field (``bench/hostile_fields.py``), or a link inside the bundle to a file of
the *victim* folder beside the sandbox (``bench/hostile_links.py``); the sandbox, the victim and
the base project are made by ``bench/hostile_sandbox.py``, hostile Storyboarder folders by
``bench/hostile_storyboarder.py``. ``bench/hostile_runs.py`` runs the commands on them and checks
that the victim was neither changed nor shown in an export; the tests (``tests/hostile``,
``tests/qt/test_hostile_editor.py``, ``tests/inference/test_hostile_generate.py``) and the
reliability benchmark use the same variants.

Usage::

    sandbox = make_sandbox(tmp)
    for variant in variants():
        bundle = variant.build(sandbox)            # a fresh hostile copy in sandbox/
        ...
"""

from __future__ import annotations

from bench.hostile_fields import ALL_IDS, asset_variants, id_variants, number_variants
from bench.hostile_links import LINKS
from bench.hostile_sandbox import Variant


def variants() -> list[Variant]:
    """Every hostile project variant (about a hundred): asset fields x forms, object ids x forms,
    links inside the bundle, all the ids at once, and panel numbers that look like paths."""
    return [*asset_variants(), *id_variants(), *LINKS, ALL_IDS, *number_variants()]
