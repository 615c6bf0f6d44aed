#!/usr/bin/env bash
# Make .venv with everything the lab and the tests need; quick when nothing changed.
# First run on a fresh machine: ~6 min (llama-cpp-python compiles from source, ~4.5 min on 2 cores;
# pip caches the wheel, so later runs take seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
want_browser=${1:-}

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.nbplayground-installed
sum=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "bootstrap: installing nbplayground[local,server,dev] into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  if grep -qw amx_int8 /proc/cpuinfo 2>/dev/null \
      && ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    # llama.cpp's AMX matrix kernel, which a native build turns on where the CPU reports AMX,
    # crashes every decode on such machines (ggml_backend_amx_mul_mat; llama.cpp issue 20824;
    # seen with llama-cpp-python 0.3.17 to 0.3.36). Build for the same CPU without it; no
    # cached wheel, which may be a native build.
    echo "bootstrap: this CPU has AMX: building llama-cpp-python without llama.cpp's AMX kernel"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON" \
      .venv/bin/python -m pip install -q --no-cache-dir 'llama-cpp-python>=0.3' 2>&1 \
      | grep -v "is ignored" || true
  fi
  .venv/bin/python -m pip install -q -e '.[local,server,dev]' 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import nbplayground, llama_cpp, duckdb, openai" \
    || { echo "bootstrap: install failed" >&2; exit 1; }
  echo "$sum" > "$stamp"
fi
# JupyterLab settings for the demo (no news pop-up over the notebook).
mkdir -p .venv/share/jupyter/lab/settings
cp jupyter-config/lab/settings/overrides.json .venv/share/jupyter/lab/settings/overrides.json

if [ "$want_browser" = "--browser" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "bootstrap: chromium is missing; install it (sudo apt-get install chromium) for the browser tests" >&2
  fi
fi

# The team-log tests start a private PostgreSQL cluster (tests/support/postgres.py): they need
# initdb and pg_ctl, from pg_config --bindir or Debian's /usr/lib/postgresql/*/bin.
pg_bin=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "$pg_bin/initdb" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing Debian's postgresql for the team-log tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "bootstrap: PostgreSQL is missing; install it (sudo apt-get install postgresql) for the team-log tests" >&2
  fi
fi
# initdb and postgres refuse to run as root: the tests then run them as the package's
# `postgres` system user, which a bare install without the package may lack.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
