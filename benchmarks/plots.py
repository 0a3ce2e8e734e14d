"""Figures of a suite's results: score against parameters and against fit time."""

from __future__ import annotations


def score_key(rows, preferred=None):
    """The score a suite's rows are compared on: ``preferred`` (a block's ``score``) where every row has it,
    else balanced accuracy where they all have it, else accuracy."""
    for key in ((preferred,) if preferred else ()) + ("balanced_accuracy", "accuracy", "accuracy_mean"):
        if all(key in r for r in rows):
            return key
    raise KeyError("no score column shared by every row")


def plot_dataset(dataset, block, path):
    """Two panels for one dataset of a suite (``block["results"]`` rows); saved to ``path``.

    A row aggregated over seeds (``<score>_sd``) is drawn at its means with an
    error bar of one standard deviation over the seeds and its per-seed scores
    as small dots; a row of one run is one point.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = block["results"]
    score = score_key(rows, block.get("score"))
    seconds = "fit_seconds" if all("fit_seconds" in r for r in rows) else "fit_seconds_per_fold"
    seeded = all(f"{score}_sd" in r for r in rows)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, x_key, x_label in ((axes[0], "n_parameters", "parameters (log)"), (axes[1], seconds, f"{seconds} (log)")):
        for r in rows:
            color = "tab:red" if r["contender"] == "AutoNet" else "tab:blue"
            x = max(r[x_key], 1)
            if seeded:
                ax.errorbar(x, r[score], yerr=r[f"{score}_sd"], color=color, fmt="o", markersize=6, capsize=4)
                per_seed = r.get(f"{score}_per_seed", [])
                ax.scatter([x] * len(per_seed), per_seed, color=color, s=10, alpha=0.4)
            else:
                ax.scatter(x, r[score], color=color, s=40)
            ax.annotate(r["contender"], (x, r[score]), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
    if block.get("target") is not None:
        for ax in axes:
            ax.axhline(block["target"], color="tab:red", linestyle="--", linewidth=1, label=f"target {block['target']}")
        axes[0].legend(loc="upper center", fontsize=8)
    axes[0].set_ylabel(f"{score} (mean ± sd over seeds {' '.join(map(str, rows[0]['seeds']))})" if seeded else score)
    fig.suptitle(dataset)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
