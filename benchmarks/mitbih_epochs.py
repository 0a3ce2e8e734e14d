"""MIT-BIH DS1 -> DS2: one fixed AutoNet network scored on DS2 after every epoch.

Shows why the inter-patient search stops its candidates at epoch 1-2 and why the F
class is hard: the network is trained as the search trains a candidate (the same
record-wise validation split as ``AutoNetLCNClassifier(random_state=0)``, class
weights "balanced", AdamW, batches of 256) but without early stopping, and after
each epoch the validation loss, the validation balanced accuracy and the DS2
balanced accuracy and recalls are recorded.  Input: beat + four normalised RR intervals.

    python benchmarks/mitbih_epochs.py                         # conv k37 w64 -> head 4, 25 epochs
    python benchmarks/mitbih_epochs.py --depth 2 --width 48 --learning-rate 1e-3

Writes ``benchmarks/results/mitbih_epochs.json``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from skorch.callbacks import Callback
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight

from data import RESULTS, mitbih_beats
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.training import TrainingSettings, make_net, to_device_once, weighted_input
from sklearn_autonet.validation_split import validation_split


class ScoreEachEpoch(Callback):
    """Record validation and DS2 scores at the end of every epoch."""

    def __init__(self, X_valid, y_valid, X_test, y_test):
        self.X_valid, self.y_valid, self.X_test, self.y_test = X_valid, y_valid, X_test, y_test

    def initialize(self):
        self.rows = []
        return self

    def on_epoch_end(self, net, **kwargs):
        valid = net.predict(torch.as_tensor(self.X_valid))
        test = net.predict(torch.as_tensor(self.X_test))
        recall = recall_score(self.y_test, test, labels=range(4), average=None, zero_division=0)
        row = {"epoch": len(net.history), "valid_loss": float(net.history[-1, "valid_loss"]),
               "valid_balanced_accuracy": balanced_accuracy_score(self.y_valid, valid),
               "test_balanced_accuracy": balanced_accuracy_score(self.y_test, test),
               **{f"test_recall_{c}": float(r) for c, r in zip("NSVF", recall)}}
        self.rows.append(row)
        print("  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    args = parser.parse_args(argv)
    data = mitbih_beats(rr=True)
    (X, y, groups, rr), (X_te, y_te, _, rr_te) = data["train"], data["test"]
    X = np.hstack([X.reshape(len(X), -1), rr]).astype(np.float32)
    X_te = np.hstack([X_te.reshape(len(X_te), -1), rr_te]).astype(np.float32)
    seed = int(check_random_state(0).randint(0, 2**31 - 1))  # the estimator's split for random_state=0
    fit, valid = validation_split(y, groups, random_state=seed)
    print(f"validation records {sorted(set(groups[valid].tolist()))}, classes N/S/V/F {np.bincount(y[valid], minlength=4)}")
    weights = compute_class_weight("balanced", classes=np.arange(4), y=y[fit])[y].astype(np.float32)
    props = DataProperties(n_fit=len(fit), input_kind="signal", input_shape=(1, 256), n_classes=4,
                           sampling_rate=360, n_side=rr.shape[1])
    spec = network_spec(props, args.depth, args.width)
    print(spec.describe())
    scores = ScoreEachEpoch(X[valid], y[valid], X_te, y_te)
    settings = TrainingSettings(max_epochs=args.epochs, epoch_patience=args.epochs + 1, batch_size=256,
                                learning_rate=args.learning_rate, device="cpu")
    net = make_net(spec, settings, valid=(weighted_input(X[valid], weights[valid]), y[valid]),
                   seed=0, n_train=len(fit))
    net.callbacks.append(("score_each_epoch", scores))
    torch.manual_seed(0)
    net.fit(to_device_once(weighted_input(X[fit], weights[fit]), "cpu"), to_device_once(y[fit], "cpu"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"architecture": spec.describe(), "learning_rate": args.learning_rate,
           "validation_records": sorted(set(groups[valid].tolist())),
           "validation_class_counts": np.bincount(y[valid], minlength=4).tolist(), "epochs": scores.rows}
    (RESULTS / "mitbih_epochs.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
