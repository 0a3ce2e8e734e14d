"""Sphinx configuration for the sklearn-autonet documentation.

Build with ``bash scripts/run.sh docs`` (or ``sphinx-build -W -b html docs docs/_build/html``).
The markdown pages of docs/ are read by myst-parser; the API reference comes from the
numpydoc docstrings through autosummary; sphinx-gallery runs the quick examples
(``examples/plot_*.py``) and shows the others as code.  ``AUTONET_DOCS_FAST=1`` makes
the executed examples use an even smaller search budget (CI sets it).
"""

import json
import os
from pathlib import Path

import sklearn_autonet

project = "sklearn-autonet"
author = "sklearn-autonet developers"
copyright = "sklearn-autonet developers"
release = sklearn_autonet.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]

# API reference: one page per public name, numpydoc sections, no inherited clutter.
autosummary_generate = True
autodoc_typehints = "none"
add_module_names = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The user-guide pages are markdown (also read on GitHub); headings get anchors.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# Examples: only the quick ones (plot_*.py) are in the gallery and run; the others need
# ../shared/data, wfdb records or minutes of search and stay in examples/ as scripts.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__\.py$|(?:^|[/\\])(?!plot_)[^/\\]*\.py$)",
    "download_all_examples": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
}
os.environ.setdefault("MPLBACKEND", "Agg")


# The benchmarks page shows the latest results: every benchmarks/results/*.json becomes
# tables in _generated/benchmark_tables.md (included by benchmarks.md) at each build.
def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return str(value).replace("|", "\\|")


def _table(rows):
    columns = [c for c in rows[0] if all(not isinstance(r.get(c), (dict, list)) for r in rows)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return lines


def _suite_section(data, path, out_dir):
    """A side-by-side suite file: per data set its targets, its table and its plots."""
    import sys

    sys.path.insert(0, str(path.parent.parent))
    from plots import plot_dataset
    from suite import table_lines  # rows over seeds: scores as mean ± sd, per-seed values

    suite = data["suite"]
    lines = [f"## {suite}", "", f"`benchmarks/results/{path.name}`; reproduce: `{data['command']}`", ""]
    env = data.get("environment", {})
    lines += [f"Measured {env.get('date', '')} on {env.get('cpu_count', '?')} CPU cores, torch "
              f"{env.get('torch', '?')}, scikit-learn {env.get('sklearn', '?')}.", ""]
    for dataset, block in data["datasets"].items():
        lines += [f"### {suite}: {dataset}", ""]
        if block.get("targets"):
            lines += _table([{"target": k, "holds": v} for k, v in block["targets"].items()]) + [""]
        rows = block["results"]
        lines += (table_lines(rows, block.get("score")) if all("seeds" in r for r in rows) else _table(rows)) + [""]
        image = f"{suite}_{dataset}.png"
        plot_dataset(dataset, block, out_dir / image)
        lines += [f"![{suite} {dataset}: score against parameters and fit time]({image})", ""]
    return lines


def _benchmark_tables(results_dir, out_file):
    lines = []
    out_file.parent.mkdir(exist_ok=True)
    for path in sorted(Path(results_dir).glob("*.json")):
        if path.stem.endswith("_partial"):  # partial suite runs (not committed) stay off the page
            continue
        data = json.loads(path.read_text())
        if "suite" in data:
            lines += _suite_section(data, path, out_file.parent)
            continue
        lines += [f"## {path.stem}", "", f"`benchmarks/results/{path.name}`", ""]
        scalars = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
        if scalars:
            lines += _table([{"figure": k, "value": _cell(v)} for k, v in scalars.items()]) + [""]
        for key, value in data.items():
            if isinstance(value, dict) and value:
                rows = [{"figure": k, "value": _cell(v)} for k, v in value.items()]
            elif isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
                rows = value
            else:
                continue
            lines += [f"**{key}**", ""] + _table(rows) + [""]
    out_file.parent.mkdir(exist_ok=True)
    out_file.write_text("\n".join(lines or ["No benchmark results yet."]) + "\n")


_here = Path(__file__).resolve().parent
_benchmark_tables(_here.parent / "benchmarks" / "results", _here / "_generated" / "benchmark_tables.md")

html_theme = "alabaster"
html_theme_options = {"description": "AutoNet layer-wise convex networks for scikit-learn", "fixed_sidebar": False}
html_static_path = []
