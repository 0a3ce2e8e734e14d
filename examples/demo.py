"""Demo: the AutoNet search on real data, printing what it found and its test score.

Default dataset: UCR ECG200 with its official split (from the project's
``shared/data`` folder); without that folder, scikit-learn's breast-cancer data.

    python examples/demo.py                   # ECG200, or breast cancer without shared/data
    python examples/demo.py --dataset digits  # scikit-learn's digits
    python examples/demo.py --data-dir PATH   # where shared/data lives
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_autonet import AutoNetLCNClassifier

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def load_ecg200(data_dir):
    folder = Path(data_dir) / "ucr_ECG200"
    train = np.loadtxt(folder / "ECG200_TRAIN.tsv.gz")
    test = np.loadtxt(folder / "ECG200_TEST.tsv.gz")
    return train[:, None, 1:], train[:, 0].astype(int), test[:, None, 1:], test[:, 0].astype(int)


def load_tabular(loader):
    X, y = loader(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["auto", "ecg200", "breast_cancer", "digits"], default="auto")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    dataset = args.dataset
    if dataset == "auto":
        dataset = "ecg200" if (Path(args.data_dir) / "ucr_ECG200").is_dir() else "breast_cancer"
    clf = AutoNetLCNClassifier(random_state=args.random_state, verbose=1)
    if dataset == "ecg200":
        X_train, y_train, X_test, y_test = load_ecg200(args.data_dir)
        model = clf
    else:
        loader = {"breast_cancer": load_breast_cancer, "digits": load_digits}[dataset]
        X_train, X_test, y_train, y_test = load_tabular(loader)
        model = make_pipeline(StandardScaler(), clf)

    print(f"dataset: {dataset}  train {X_train.shape}  test {X_test.shape}")
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    y_pred = model.predict(X_test)

    print("\nconvexity report of the selected network")
    print(clf.convexity_report_)
    print("\nsearch history")
    keys = ["candidate", "architecture", "n_parameters", "epochs", "validation_score", "seconds", "selected"]
    for row in zip(*(clf.search_history_[k] for k in keys)):
        cand, arch, n_params, epochs, score, secs, selected = row
        mark = "*" if selected else " "
        print(f"{mark} {cand:2d}  {arch:70s} {n_params:7d} params {epochs:4d} ep  val {score:.3f}  {secs:6.1f} s")
    print(f"\nstopped: {clf.stop_reason_}; fit time {seconds:.1f} s; {clf.n_parameters_} parameters")
    print(f"test accuracy {np.mean(y_pred == y_test):.3f}  balanced accuracy {balanced_accuracy_score(y_test, y_pred):.3f}")


if __name__ == "__main__":
    main()
