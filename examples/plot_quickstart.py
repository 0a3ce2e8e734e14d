"""
Quick start: AutoNet on a table of features
===========================================

:class:`~sklearn_autonet.AutoNetLCNClassifier` on scikit-learn's breast-cancer data
(569 samples, 30 features) inside a pipeline with a scaler. The search grows a dense
layer-wise convex network one block at a time; here its budget is kept small so that
the example runs in seconds on a CPU. Set ``AUTONET_DOCS_FAST=1`` for an even smaller
one (the documentation build in CI does).
"""

import os

from sklearn.datasets import load_breast_cancer
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_autonet import AutoNetLCNClassifier

fast = os.environ.get("AUTONET_DOCS_FAST") == "1"
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = AutoNetLCNClassifier(max_candidates=2 if fast else 3, max_epochs=10 if fast else 30, random_state=0)
model = make_pipeline(StandardScaler(), clf).fit(X_train, y_train)
# ``score`` is plain accuracy (as for every scikit-learn classifier); the search itself
# compares candidates by balanced accuracy (``scoring``)
print(f"test accuracy: {model.score(X_test, y_test):.3f}, "
      f"balanced accuracy: {balanced_accuracy_score(y_test, model.predict(X_test)):.3f}")

# %%
# The network the search chose, layer by layer:
print(clf.architecture_)

# %%
# Every trainable layer is an overdetermined system: no more parameters ``P_l``
# than training equations ``N_eq`` (``rho=1``):
print(clf.convexity_report_)
print("bound holds for every layer:", clf.convexity_report_.holds)
print("why the search stopped:", clf.stop_reason_)
