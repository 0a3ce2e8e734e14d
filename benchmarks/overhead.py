"""Training overhead: the estimator versus a plain PyTorch loop on the same network.

Both train the same LCN (one conv block of the width the bound gives, on
MIT-BIH DS1 beats) for the same number of epochs, with the same batch size,
train/validation split, AdamW and learning rate, computing the validation loss
after every epoch and the validation predictions at the end, in one process.
The estimator's time is ``fit`` (search bookkeeping, skorch's loop and
callbacks included); the plain loop's is a hand-written loop over
``LCNNetwork``.  Target: ratio <= 1.10.

Run: ``python benchmarks/overhead.py [--epochs 5] [--repeats 3] [--train-size 6000]``
Prints a table and writes ``benchmarks/results/overhead.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np
import torch
from sklearn.utils import check_random_state

from data import RESULTS, mitbih_beats
from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.modules import LCNNetwork
from sklearn_autonet.validation_split import validation_split


def plain_loop(spec, X, y, train_idx, valid_idx, epochs, batch_size, lr, seed):
    torch.manual_seed(seed)
    module = LCNNetwork(spec)
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X[train_idx]), torch.from_numpy(y[train_idx])
    Xv, yv = torch.from_numpy(X[valid_idx]), torch.from_numpy(y[valid_idx])
    generator = torch.Generator().manual_seed(seed)
    n_batches = len(yt) // batch_size if len(yt) > batch_size else 1
    for _ in range(epochs):
        module.train()
        order = torch.randperm(len(yt), generator=generator)
        for b in range(n_batches):
            idx = order[b * batch_size : (b + 1) * batch_size]
            optimizer.zero_grad()
            loss = loss_fn(module(Xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
        module.eval()
        with torch.no_grad():
            sum(loss_fn(module(Xv[i : i + batch_size]), yv[i : i + batch_size]).item() for i in range(0, len(yv), batch_size))
    with torch.no_grad():
        torch.cat([module(Xv[i : i + batch_size]) for i in range(0, len(yv), batch_size)]).argmax(1)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--train-size", type=int, default=6000)
    args = parser.parse_args(argv)

    X, y, _ = mitbih_beats(train_size=args.train_size)["train"]
    y = y.astype(np.int64)
    params = dict(
        sampling_rate=360, max_candidates=1, max_epochs=args.epochs, epoch_patience=args.epochs, random_state=0
    )
    ours, plain = [], []
    seed = int(check_random_state(0).randint(0, 2**31 - 1))  # the estimator's split seed
    train_idx, valid_idx = validation_split(y, validation_fraction=0.2, random_state=seed)

    def run_estimator():
        start = time.perf_counter()
        clf = AutoNetLCNClassifier(**params).fit(X, y)
        assert clf.search_history_["epochs"][0] == args.epochs
        return clf, time.perf_counter() - start

    clf, _ = run_estimator()  # warms torch up; also gives the network and batch size
    spec, batch_size = clf.architecture_.spec, clf.net_.batch_size

    def run_plain():
        start = time.perf_counter()
        plain_loop(spec, X, y, train_idx, valid_idx, args.epochs, batch_size, clf.learning_rate, seed)
        return time.perf_counter() - start

    run_plain()
    for repeat in range(args.repeats):  # alternate which one goes first
        if repeat % 2:
            plain.append(run_plain())
            ours.append(run_estimator()[1])
        else:
            ours.append(run_estimator()[1])
            plain.append(run_plain())
    ratio = statistics.median(ours) / statistics.median(plain)
    result = {
        "network": spec.describe(),
        "n_parameters": clf.n_parameters_,
        "train_samples": int(len(train_idx)),
        "valid_samples": int(len(valid_idx)),
        "batch_size": batch_size,
        "epochs": args.epochs,
        "estimator_seconds": ours,
        "plain_loop_seconds": plain,
        "ratio_of_medians": ratio,
        "target": 1.10,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    print(f"network: {result['network']}  ({result['n_parameters']} parameters)")
    print(f"{'':>12} {'median s':>9}  runs")
    print(f"{'estimator':>12} {statistics.median(ours):9.2f}  {', '.join(f'{t:.2f}' for t in ours)}")
    print(f"{'plain loop':>12} {statistics.median(plain):9.2f}  {', '.join(f'{t:.2f}' for t in plain)}")
    print(f"ratio {ratio:.3f} (target <= 1.10)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "overhead.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
