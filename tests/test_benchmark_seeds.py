"""The suites' seed aggregation (benchmarks/suite.py): made-up per-seed rows, no training, no data."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from suite import aggregate, markdown, table_lines, write  # noqa: E402


def _run(seed, bacc, n_parameters, fit_seconds, architecture="conv k37 w64 -> head 4"):
    return {"contender": "AutoNet", "seed": seed, "accuracy": 0.9, "balanced_accuracy": bacc, "macro_f1": bacc - 0.1,
            "recall_N": 0.8, "groups_passed": True, "fit_seconds": fit_seconds, "n_parameters": n_parameters,
            "architecture": architecture, "candidates": 9, "search_history": {"epochs": [seed, 1]}}


def test_aggregate_gives_mean_sd_and_per_seed_values_of_each_score():
    runs = [_run(0, 0.70, 2000, 10.0), _run(1, 0.74, 3000, 20.0), _run(2, 0.72, 4000, 30.0, "conv k21 w32")]
    row = aggregate(runs)
    assert row["contender"] == "AutoNet" and row["seeds"] == [0, 1, 2]
    assert row["balanced_accuracy"] == pytest.approx(0.72)
    assert row["balanced_accuracy_sd"] == pytest.approx(np.std([0.70, 0.74, 0.72], ddof=1))
    assert row["balanced_accuracy_per_seed"] == [0.70, 0.74, 0.72]
    # a score the seeds agree on still gets its sd (0) and per-seed values; recalls are scores too
    assert row["accuracy"] == 0.9 and row["accuracy_sd"] == 0.0 and row["accuracy_per_seed"] == [0.9] * 3
    assert row["recall_N_sd"] == 0.0
    # other numbers: means, per-seed values only where the seeds differ
    assert row["n_parameters"] == pytest.approx(3000) and row["n_parameters_per_seed"] == [2000, 3000, 4000]
    assert row["fit_seconds"] == pytest.approx(20.0)
    assert row["candidates"] == 9 and "candidates_per_seed" not in row
    # strings and flags: kept when every seed agrees, else listed
    assert row["groups_passed"] is True
    assert "architecture" not in row and row["architecture_per_seed"][2] == "conv k21 w32"
    # lists and dicts stay in the per-seed rows, kept whole
    assert "search_history" not in row and row["runs"] == runs
    json.dumps(row)


def test_aggregate_of_one_seed_and_of_mixed_contenders():
    row = aggregate([_run(3, 0.7, 10, 1.0)])
    assert row["seeds"] == [3] and row["balanced_accuracy"] == 0.7 and row["balanced_accuracy_sd"] == 0.0
    other = {**_run(1, 0.7, 10, 1.0), "contender": "MLP"}
    with pytest.raises(ValueError, match="several contenders"):
        aggregate([_run(0, 0.7, 10, 1.0), other])
    with pytest.raises(ValueError, match="no runs"):
        aggregate([])


def test_tables_show_mean_and_sd_and_rows_of_one_run_as_before():
    rows = [aggregate([_run(s, 0.7 + 0.01 * s, 20_000, 5.0) for s in (0, 1, 2)]),
            aggregate([{**_run(s, 0.6, 9801, 0.1), "contender": "MLP"} for s in (0, 1, 2)])]
    lines = table_lines(rows)
    assert lines[0].startswith("| contender | seeds | accuracy (mean ± sd) | balanced_accuracy (mean ± sd) |")
    assert "| AutoNet | 0 1 2 | 0.900 ± 0.000 | 0.710 ± 0.010 |" in lines[2]
    assert "0.700 / 0.710 / 0.720" in lines[2] and "20,000" in lines[2]
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    # a block's score chooses which per-seed values are shown (UCR: accuracy)
    assert "accuracy per seed" in table_lines(rows, "accuracy")[0] and "0.900 / 0.900 / 0.900" in table_lines(
        rows, "accuracy")[2]
    # rows written before the seeds (one run each) keep the plain table
    old = [{"contender": "HistGB", "accuracy_mean": 0.97, "n_parameters": 5446, "fold_accuracy": [0.9]}]
    assert table_lines(old)[0] == "| contender | accuracy_mean | n_parameters |"
    assert "### digits" in markdown({"digits": {"results": old}})


def test_write_saves_seeded_rows_readable_by_the_one_run_readers(tmp_path):
    tabular = [aggregate([{"contender": name, "seed": s, "accuracy": acc + 0.002 * s, "accuracy_fold_sd": 0.01,
                           "fold_accuracy": [acc] * 5, "fit_seconds_per_fold": 0.5, "n_parameters": n,
                           "peak_rss_mb": 300.0} for s in (0, 1, 2)])
               for name, acc, n in (("AutoNet", 0.96, 3000), ("MLP", 0.97, 9000))]
    path = write("unit", {"digits": {"cv": "StratifiedKFold(5, shuffle, seed 0)", "results": tabular}}, "pytest",
                 results_dir=tmp_path)
    saved = json.loads(path.read_text())["datasets"]["digits"]["results"]
    # the names a one-run reader looks up (score, parameters, fit time) hold the means
    assert saved[1]["accuracy"] == pytest.approx(0.972) and saved[1]["n_parameters"] == 9000
    assert saved[0]["runs"][2]["seed"] == 2
    text = (tmp_path / "unit.md").read_text()
    assert "Seeds (`random_state`) 0 1 2" in text and "| MLP | 0 1 2 | 0.972 ± 0.002 |" in text
    assert (tmp_path / "unit_digits.png").stat().st_size > 1000
