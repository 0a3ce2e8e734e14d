"""What a person sees while the search runs (``verbose=1``): one tqdm bar, kept current.

The bar counts candidates; its text names the candidate in training, its epoch out of
its budget and latest validation loss (updated by the :class:`EpochReport` skorch
callback after every epoch), the best validation score so far, and an estimate of the
time left that never goes past ``max_time``.  Candidates trained in other processes
(``n_jobs > 1``) report when they finish, not per epoch.  With ``verbose=0`` nothing is
printed.
"""

from __future__ import annotations

import math
import time

from skorch.callbacks import Callback
from tqdm.auto import tqdm

_ACTIVE = []  # the search progress of this process, while a search runs in it


def active():
    """The :class:`SearchProgress` of the search running in this process, or None."""
    return _ACTIVE[-1] if _ACTIVE else None


def _clock(seconds):
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class SearchProgress:
    """The progress bar of one search, and the hook the epoch callback reports to.

    Parameters
    ----------
    total : int
        Candidates the search expects to train (the bar's length).
    enabled : bool
        False: nothing is shown (``verbose=0``).
    deadline : float or None
        ``time.monotonic()`` value of the ``max_time`` budget's end.
    """

    def __init__(self, total, enabled, deadline=None):
        self.enabled = bool(enabled)
        self.deadline = deadline
        self.start = time.monotonic()
        self.done = 0
        self.total = total
        self.best = math.nan
        self.current = ""
        self.epoch_text = ""
        self.bar = tqdm(
            total=total, desc="AutoNet search", unit="candidate", disable=not self.enabled,
            bar_format="{desc}: {n_fmt}/{total_fmt} candidates [{elapsed}{postfix}]",
        )

    def __enter__(self):
        _ACTIVE.append(self)
        self._show()
        return self

    def __exit__(self, *exc):
        _ACTIVE.remove(self)
        self.bar.close()
        return False

    def eta(self):
        """Seconds the search may still take: from the candidates so far, never past ``max_time``."""
        now = time.monotonic()
        left = None
        if self.done:
            left = (now - self.start) / self.done * max(0, self.total - self.done)
        if self.deadline is not None:
            left = max(0.0, self.deadline - now) if left is None else min(left, max(0.0, self.deadline - now))
        return left

    def start_candidate(self, index, spec, max_epochs, stage=""):
        """A candidate starts training (shown at once); ``stage`` e.g. "rung" or "promoted"."""
        stage = f" ({stage})" if stage else ""
        self.current = f"candidate {index}{stage}: {spec.describe().split(': ', 1)[-1]}"
        self.epoch_text = f"epoch 0/{max_epochs}"
        self._show()

    def epoch(self, epoch, max_epochs, valid_loss=None):
        """The candidate in training finished an epoch."""
        self.epoch_text = f"epoch {epoch}/{max_epochs}"
        if valid_loss is not None and math.isfinite(valid_loss):
            self.epoch_text += f", valid loss {valid_loss:.3f}"
        self._show()

    def finish_candidate(self, score, best):
        """A candidate is final (its row is in the history)."""
        self.done += 1
        if best is not None and math.isfinite(best):
            self.best = best
        self.current, self.epoch_text = "", f"last score {score:.3f}" if math.isfinite(score) else "last failed"
        self.bar.update(1)
        self._show()

    def _show(self):
        if not self.enabled:
            return
        parts = [p for p in (self.current, self.epoch_text) if p]
        if math.isfinite(self.best):
            parts.append(f"best {self.best:.3f}")
        left = self.eta()
        parts.append("eta ?" if left is None else f"eta {_clock(left)}")
        self.bar.set_postfix_str(" | ".join(parts), refresh=True)


class EpochReport(Callback):
    """Tell the search's progress bar, in this process, that an epoch ended."""

    def on_epoch_end(self, net, **kwargs):
        progress = active()
        if progress is not None:
            row = net.history[-1]
            progress.epoch(len(net.history), net.max_epochs, row.get("valid_loss"))
