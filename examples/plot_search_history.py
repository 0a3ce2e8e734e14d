"""
Reading ``search_history_``: validation score per candidate
============================================================

Each round of the AutoNet search trains one candidate network, one block deeper than
the last, and records it in ``search_history_`` (a dict of columns, like
``cv_results_``). This example runs a short search on the MIT-BIH beats embedded in the
package (DS1 records; the validation split is grouped by record) and plots the
validation score of each candidate, marking the one selected. Budgets are small so
that it runs in about a minute on a CPU; ``AUTONET_DOCS_FAST=1`` makes them smaller.
"""

import os

import matplotlib.pyplot as plt
import pandas as pd

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.datasets import load_mitbih_beats

fast = os.environ.get("AUTONET_DOCS_FAST") == "1"
train = load_mitbih_beats("train")
clf = AutoNetLCNClassifier(
    signal_shape=train.signal_shape,
    sampling_rate=train.sampling_rate,
    class_weight="balanced",
    max_candidates=2 if fast else 3,
    patience=3,
    max_epochs=4 if fast else 10,
    random_state=0,
)
clf.fit(train.data, train.target, groups=train.groups)

# %%
# One row per candidate:
history = pd.DataFrame(clf.search_history_)
pd.set_option("display.width", 160)
print(history[["depth", "architecture", "n_parameters", "max_ratio", "epochs", "validation_score", "selected"]])
print("stop reason:", clf.stop_reason_)

# %%
# Validation score (balanced accuracy by default) of each candidate, in the order the
# search trained them; the selected candidate is circled.
fig, ax = plt.subplots(figsize=(6, 3.5))
candidate = history.index + 1
ax.plot(candidate, history["validation_score"], marker="o")
chosen = history["selected"].astype(bool)
ax.scatter(candidate[chosen], history["validation_score"][chosen], s=200, facecolors="none",
           edgecolors="C3", label="selected")
for c, d, n in zip(candidate, history["depth"], history["n_parameters"]):
    ax.annotate(f"depth {d}, {n} params", (c, history["validation_score"][c - 1]),
                textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
ax.set_xticks(candidate)
ax.set_xlabel("candidate (in the order trained)")
ax.set_ylabel("validation score")
ax.set_title("AutoNet search on MIT-BIH DS1 beats")
ax.legend()
fig.tight_layout()
plt.show()
