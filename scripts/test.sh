#!/usr/bin/env bash
# Set up everything, then run the whole test suite: lint, types, unit, agent and
# integration tests (the integration tests start the local Kafka broker themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== ruff"
.venv/bin/ruff check streamsec tests benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
status=0
.venv/bin/pytest -q -ra --durations=25 "$@" || status=$?
.venv/bin/streamsec broker down >/dev/null 2>&1 || true
exit $status
