#!/usr/bin/env bash
# Set up everything, then run the demo against the embedded local Kafka broker.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/streamsec demo "$@"
