#!/usr/bin/env bash
# The whole test suite: lint, types, tests. Run from the repository root inside the project environment
# (the README's second command does that: `uv run bash scripts/check.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff"
ruff check src tests benchmarks
echo "== mypy"
mypy
echo "== pytest"
pytest "$@"
