#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu base image).
# It installs Python, bubblewrap (the grader's sandbox) and the course (the autograder package and
# the student kit) into /autograder/source/venv. Make the zip with:
#   autograder gradescope --zip autograder.zip [ASSIGNMENT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null

python3 -m venv "$here/venv"
pip=("$here/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
# torch first, the CPU build: the open range of the course would otherwise pull a CUDA build of several GB.
"${pip[@]}" --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
"${pip[@]}" numpy
# The kit is installed as a copy (student code imports it); the course stays where it is, editable.
"${pip[@]}" "$here/course/kit"
"${pip[@]}" -e "$here/course"
# Warm matplotlib's font cache once, so that no submission pays for it.
"$here/venv/bin/python" -c "import matplotlib.pyplot" >/dev/null 2>&1 || true
echo "setup: ready ($("$here/venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
