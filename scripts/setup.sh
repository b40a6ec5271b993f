#!/usr/bin/env bash
# Set up this project on a fresh machine, idempotently:
#   a virtual environment in .venv with the CPU build of torch, the course package,
#   the test tools (with --test: pytest, ruff, Playwright and Debian's chromium for the
#   browser tests, Dask and the PostgreSQL drivers with Debian's postgresql server for the
#   cluster and gradebook tests), and bubblewrap for the sandboxed grader.
# A rerun with the same pyproject files and options skips the installs (well under a second).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
mode=${1:-}

# Installs a Debian package when it is missing and we are root with apt-get; else says how.
apt_install() {  # apt_install COMMAND PACKAGE WHY
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
  else
    echo "setup: $2 is missing; $3: sudo apt-get install $2" >&2
  fi
}

# The extras a --test install adds: the test tools, and what the Dask and PostgreSQL tests need.
test_extras=test,dask,postgres

[ -x .venv/bin/python ] || "$python" -m venv .venv
# The stamp: what the last complete install was made from. A --test install also serves a plain one.
stamp=.venv/.setup-stamp
made_from="$(cat pyproject.toml kit/pyproject.toml | sha256sum | cut -c1-16) $(.venv/bin/python -V 2>&1)"
case "$mode" in
  --test) wanted="$made_from --test[$test_extras]" ;;
  *) wanted="$made_from ${mode:-main}" ;;
esac
have=$(cat "$stamp" 2>/dev/null || true)
if [ -x .venv/bin/autograder ] && { [ "$have" = "$wanted" ] || [ "$have" = "$made_from --test[$test_extras]" ]; }; then
  echo "setup: .venv is up to date (delete $stamp to reinstall)"
else
  pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
  # torch first, pinned: an open range with no torch installed may pull a CUDA build of several GB.
  "${pip[@]}" torch==2.13.0 numpy
  if [ "$mode" = "--test" ]; then
    "${pip[@]}" -e kit -e ".[$test_extras]"
  else
    "${pip[@]}" -e kit -e .
  fi
  echo "$wanted" >"$stamp"
fi

apt_install bwrap bubblewrap "the sandboxed grader needs it"
if [ "$mode" = "--test" ]; then
  # The browser tests drive Debian's chromium through Playwright (Playwright's own browsers are never downloaded).
  apt_install chromium chromium "the browser tests (tests/browser) need it"
  # The PostgreSQL tests start a server of their own (initdb, pg_ctl): Debian keeps those out of
  # PATH, in /usr/lib/postgresql/<version>/bin, where tests/pg.py finds them too.
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    apt_install initdb postgresql "the PostgreSQL tests (tests/test_postgres.py, tests/test_dask.py) need it"
  fi
fi
echo "setup: ready (.venv, torch $(.venv/bin/python -c 'from importlib.metadata import version; print(version("torch"))'))"
