#!/usr/bin/env bash
# Set up the environment (once) and run the demo or the test suite.
#
#   bash scripts/run.sh demo [demo options]   # the AutoNet search on real data
#   bash scripts/run.sh test [pytest options] # the whole test suite
#   bash scripts/run.sh docs [sphinx options] # the Sphinx site, warnings as errors -> docs/_build/html
#   bash scripts/run.sh bench SUITE [options] # a side-by-side suite: mitbih, ucr or tabular
#   bash scripts/run.sh setup                 # only the set-up
#
# Set-up: inside an active virtual environment (VIRTUAL_ENV set) that one is used;
# otherwise ./.venv is created.  Where no torch is importable the CPU build is
# installed first (torch==2.13.0, override with AUTONET_TORCH_SPEC); an existing
# torch, CUDA builds included, is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-test}"
shift || true

if [ -n "${VIRTUAL_ENV:-}" ]; then
  py="$VIRTUAL_ENV/bin/python"
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  py=.venv/bin/python
fi

# What each command needs: the demo only the package and matplotlib; the rest the test set-up.
if [ "$what" = "demo" ]; then
  extras="demo"; needs="sklearn_autonet, skorch, matplotlib"
else
  extras="test,ecg,demo"; needs="sklearn_autonet, skorch, pytest, wfdb, matplotlib, hypothesis, onnxruntime, safetensors"
fi
if ! "$py" -c "import $needs" >/dev/null 2>&1; then
  "$py" -m pip install --quiet --upgrade pip
  if ! "$py" -c "import torch" >/dev/null 2>&1; then
    "$py" -m pip install --quiet "${AUTONET_TORCH_SPEC:-torch==2.13.0}"
  fi
  "$py" -m pip install --quiet -e ".[$extras]"
fi

case "$what" in
  setup) "$py" -c "import sklearn_autonet, torch; print('sklearn-autonet', sklearn_autonet.__version__, 'torch', torch.__version__)" ;;
  demo) exec "$py" examples/demo.py "$@" ;;
  test) exec "$py" -m pytest "$@" ;;
  docs)
    # The docs extra (Sphinx, numpydoc, sphinx-gallery, myst-parser); AUTONET_DOCS_FAST=1
    # gives the executed examples (examples/plot_*.py) a smaller search budget.
    if ! "$py" -c "import sphinx, numpydoc, sphinx_gallery, myst_parser, pandas" >/dev/null 2>&1; then
      "$py" -m pip install --quiet -e ".[docs]"
    fi
    exec "$py" -m sphinx -W --keep-going -b html docs docs/_build/html "$@" ;;
  bench)
    # The bench extra (aeon for MiniRocket); one suite of benchmarks/ per call.
    if [ $# -lt 1 ]; then
      echo "usage: bash scripts/run.sh bench mitbih|ucr|tabular [options]" >&2
      exit 2
    fi
    suite="$1"
    shift
    if ! "$py" -c "import aeon" >/dev/null 2>&1; then
      "$py" -m pip install --quiet -e ".[bench]"
    fi
    exec "$py" "benchmarks/$suite.py" "$@" ;;
  *) echo "usage: bash scripts/run.sh {demo|test|docs|bench|setup} [options]" >&2; exit 2 ;;
esac
