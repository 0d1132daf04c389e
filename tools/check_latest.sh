#!/usr/bin/env bash
# Drift check: installs the newest releases pyproject.toml allows (not the lock) into a scratch venv
# and runs the same lint and tests as `make test`, so a new release that breaks us is found here,
# not by a user. Green: `make lock` takes those releases into the lock. Usage: check_latest.sh PYTHON TORCH_SPEC
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-python3.11}"
torch_spec="${2:-torch==2.13.0}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/storyboard-latest.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
py="$scratch/venv/bin/python"
"$py" -m pip install --quiet --upgrade pip setuptools
"$py" -m pip install --quiet "$torch_spec"
# A copy of the tree, so the scratch install never touches .venv or the checkout's egg-info.
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$scratch" --one-top-level=src
cd "$scratch/src"
"$py" -m pip install --quiet --upgrade -e ".[dev]"
"$py" -m pip freeze --exclude-editable > "$scratch/latest.txt"
echo "check-latest: releases newer than the lock:"
"$py" - "$OLDPWD/requirements/lock.txt" "$scratch/latest.txt" <<'PY'
import re
import sys


def pins(path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in open(path, encoding="utf-8"):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", line)
        if match:  # the lock lists Python 3.11's pin first
            found.setdefault(re.sub(r"[-_.]+", "-", match[1]).lower(), match[2])
    return found


lock, latest = pins(sys.argv[1]), pins(sys.argv[2])
newer = [f"  {name}: {lock[name]} -> {latest[name]}" for name in sorted(lock)
         if name in latest and latest[name] != lock[name]]
print("\n".join(newer) or "  none: the lock is current")
PY
bin="$scratch/venv/bin"
"$bin/ruff" check . && "$bin/ruff" format --check . && "$bin/mypy" && "$bin/lint-imports"
QT_QPA_PLATFORM=offscreen "$py" -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-}
echo "check-latest: green on the newest releases; 'make lock' takes them into the lock"
