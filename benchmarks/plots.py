"""Figures of a suite's results: score against parameters and against fit time."""

from __future__ import annotations


def _score_key(rows):
    for key in ("balanced_accuracy", "accuracy", "accuracy_mean"):
        if all(key in r for r in rows):
            return key
    raise KeyError("no score column shared by every row")


def plot_dataset(dataset, block, path):
    """Two panels for one dataset of a suite (``block["results"]`` rows); saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = block["results"]
    score = _score_key(rows)
    seconds = "fit_seconds" if all("fit_seconds" in r for r in rows) else "fit_seconds_per_fold"
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, x_key, x_label in ((axes[0], "n_parameters", "parameters (log)"), (axes[1], seconds, f"{seconds} (log)")):
        for r in rows:
            color = "tab:red" if r["contender"] == "AutoNet" else "tab:blue"
            ax.scatter(max(r[x_key], 1), r[score], color=color, s=40)
            ax.annotate(r["contender"], (max(r[x_key], 1), r[score]), textcoords="offset points", xytext=(4, 4),
                        fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
    if "target" in block:
        for ax in axes:
            ax.axhline(block["target"], color="tab:red", linestyle="--", linewidth=1, label=f"target {block['target']}")
        axes[0].legend(loc="upper center", fontsize=8)
    axes[0].set_ylabel(score)
    fig.suptitle(dataset)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
