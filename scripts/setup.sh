#!/usr/bin/env bash
# Set up this project on a fresh machine, idempotently:
#   a virtual environment in .venv with the CPU build of torch, the course package,
#   the test tools (with --test), and bubblewrap for the sandboxed grader.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

# torch first, pinned: an open range with no torch installed may pull a CUDA build of several GB.
"${pip[@]}" torch==2.13.0 numpy
if [ "${1:-}" = "--test" ]; then
  "${pip[@]}" -e kit -e ".[test]"
else
  "${pip[@]}" -e kit -e .
fi

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }
  else
    echo "setup: bubblewrap is missing; the sandboxed grader needs it: sudo apt-get install bubblewrap" >&2
  fi
fi
echo "setup: ready (.venv, $(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
