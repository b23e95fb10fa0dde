#!/usr/bin/env bash
# Set up everything kithara needs on a fresh Debian machine, then run one thing:
#   bash scripts/quickstart.sh play   -> plays the built-in demo (no network needed)
#   bash scripts/quickstart.sh test   -> lint + the test suite on both cores
# Idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-play}"
shift || true

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
need_deb() {  # need_deb PACKAGE...: install Debian packages that are missing
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "quickstart: please install ${missing[*]} (PortAudio) with your package manager" >&2
  fi
}

# PortAudio for sounddevice: the Linux wheel does not bundle it.
need_deb libportaudio2

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    need_deb python3-venv
    rm -rf .venv
    "$PY" -m venv .venv
  fi
fi
stamp=".venv/.kithara-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  touch "$stamp"
fi
# Bytecode for kithara's own modules, as an installed package has: with
# PYTHONDONTWRITEBYTECODE=1 in the environment nothing else writes it, and every start-up
# would compile each module it imports (~60 ms). Only changed files are compiled.
.venv/bin/python -m compileall -q src >/dev/null

case "$what" in
  play)
    # The demo's media (a generated HLS ladder: ~5-15 s of encoding, the first time only) is
    # built here with the rest of the set-up, not inside kithara's first-audio figure.
    .venv/bin/python -c 'from kithara_cli.commands.demo import demo_ladder_dir; demo_ladder_dir()'
    exec .venv/bin/kithara play --demo "$@"
    ;;
  test)
    need_deb tmux  # the dashboard test drives a real terminal
    .venv/bin/ruff check src tests
    .venv/bin/ruff format --check src tests
    .venv/bin/mypy  # [tool.mypy] in pyproject.toml: src/, untyped defs refused
    exec .venv/bin/python -m pytest -n 2 -q "$@"
    ;;
  *)
    echo "usage: bash scripts/quickstart.sh [play|test] [args...]" >&2
    exit 2
    ;;
esac
