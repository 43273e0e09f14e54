#!/usr/bin/env bash
# Fill build/wheelhouse with the Lambda package's wheels (the install step; needs PyPI).
# Usage: components/fetch_wheels.sh [python]   (default: .venv/bin/python)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
py="${1:-$root/.venv/bin/python}"
dest="$root/build/wheelhouse"
mkdir -p "$dest"
# Lambda runs python3.12 on Linux; every pin is a py3-none-any wheel, so the platform only
# stops pip from picking a compiled wheel for this machine.
"$py" -m pip download --disable-pip-version-check -q \
  --only-binary=:all: --no-deps --require-hashes \
  --python-version 3.12 --platform manylinux2014_x86_64 --implementation py \
  --dest "$dest" -r "$here/lambda-requirements.txt"
echo "wheelhouse ready: $dest"
