"""examples/demo.py runs end to end on the embedded data with a reduced budget."""

import importlib.util
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_demo_main_reduced_budget(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("autonet_demo", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    result = demo.main(["--max-candidates", "1", "--max-epochs", "2", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "layer-wise bound" in printed and "LogisticRegression" in printed
    assert len(result["estimator"].search_history_["candidate"]) == 1
    assert result["estimator"].n_side_features_ == 4
    assert "selected: the best validation score" in printed  # one candidate: nothing smaller to prefer
    for model, scores in result["scores"].items():
        assert set(scores) == {"recall N", "recall S", "recall V", "recall F", "balanced accuracy", "macro-F1"}
        assert 0.0 <= scores["macro-F1"] <= 1.0
    # the baseline (beats + normalised RR intervals) is far above chance (0.25) on other patients
    assert result["scores"]["LogisticRegression"]["balanced accuracy"] > 0.5
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib missing: the demo skips its plots")
    assert sorted(p.name for p in result["plots"]) == ["confusion_matrix.png", "search_history.png"]
    assert all(p.stat().st_size > 1000 for p in result["plots"])
