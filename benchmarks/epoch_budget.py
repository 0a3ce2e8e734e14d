"""Small data: AutoNet with and without epochs of at least ten optimizer steps.

On UCR ECG200 (80 training series after the validation split) and ECGFiveDays
(18), one pass over the data is 5 or 1 mini-batches; ``min_steps_per_epoch=10``
(the default) makes an epoch 2 or 10 passes, ``1`` one pass.  Test accuracy of the default search, random_state
0, 1 and 2.

    python benchmarks/epoch_budget.py

Writes ``benchmarks/results/epoch_budget.json``.
"""

from __future__ import annotations

import json

import numpy as np

from data import RESULTS, ucr
from sklearn_autonet import AutoNetLCNClassifier


def main():
    rows = []
    for dataset in ("ECG200", "ECGFiveDays"):
        X_train, y_train, X_test, y_test = ucr(dataset)
        for steps in (1, 10):
            accuracy, epochs = [], []
            for seed in range(3):
                clf = AutoNetLCNClassifier(min_steps_per_epoch=steps, random_state=seed).fit(X_train, y_train)
                accuracy.append(float(np.mean(clf.predict(X_test) == y_test)))
                epochs.append(int(np.sum(clf.search_history_["epochs"])))
            row = {"dataset": dataset, "min_steps_per_epoch": steps,
                   "max_epochs": clf.search_history_["max_epochs"][0],
                   "epoch_patience": clf.search_history_["epoch_patience"][0],
                   "accuracy_mean": float(np.mean(accuracy)), "accuracy_per_seed": accuracy,
                   "epochs_per_search": epochs}
            print(row)
            rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "epoch_budget.json").write_text(json.dumps({"results": rows}, indent=2))


if __name__ == "__main__":
    main()
