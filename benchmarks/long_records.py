"""Long records: 30 s MIT-BIH windows labelled by rhythm, AutoNet against MiniRocket and RR features.

Data: non-overlapping 30 s windows of the MLII lead of the MIT-BIH Arrhythmia
Database (``shared/data/mitdb``, 360 Hz), each record band-passed whole
(0.5-40 Hz, as ``docs/ecg.md`` recommends) before the windows are cut.

* **Labels**, from the rhythm annotations (``'+'`` with ``aux_note``): ``N``
  (normal sinus, ``(N``), ``AF`` (atrial fibrillation or flutter, ``(AFIB`` and
  ``(AFL``) and ``other`` (every other rhythm: bigeminy, trigeminy, VT, SVTA,
  nodal, sinus bradycardia, pre-excitation, ...).  A window whose rhythm
  changes between these three classes is **dropped** (counted in the output),
  so every label holds for the whole window; a change within a class (bigeminy
  to trigeminy) keeps it.
* **Records**: the four paced records (102, 104, 107, 217) are left out, as in
  the inter-patient protocol (their rhythm is the pacemaker's, and 217's AF is
  paced); the other 44 all have an MLII lead.
* **Split**: de Chazal et al. (2004)'s DS1 (train) / DS2 (test), a published
  split by patient that puts AF on both sides (DS1: 201, 203; DS2: 202, 210,
  219, 221, 222), so no record is chosen here.

Contenders, each fitted in its own fresh process, on the same windows:

* ``AutoNet``: ``SignalStandardizer`` + ``AutoNetLCNClassifier(sampling_rate=fs,
  class_weight="balanced", max_time=--max-time, n_jobs=--n-jobs)``, its
  validation split by record (``groups``).
* ``AutoNet+RR``: the same estimator given the window's RR statistics (below) as
  side features beside the standardised signal (``signal_shape``), the NaN of windows
  with fewer than 3 beats filled with the training medians: what HistGB sees, plus
  the signal.
* ``MiniRocket+Ridge``: aeon's MiniRocket features of the window, then a ridge
  (``benchmarks/contenders.py``), class weights balanced.
* ``HistGB-RR``: ``HistGradientBoostingClassifier(class_weight="balanced")`` on
  RR statistics of each window, from the **reference beat annotations** (R
  peaks of every beat symbol in the window): beat count, mean, SD, min, max of
  the RR intervals, the coefficient of variation, RMSSD and RMSSD / mean, pNN50
  and the mean absolute successive difference over the mean (AF is an
  irregular RR).

Reported per contender: per-class F1, macro-F1, balanced accuracy, fit time;
user and system CPU seconds of the fit (``getrusage`` of the process and its
children, before and after), minor and major page faults; for AutoNet the depth
reached, the selected depth, the number of candidates and the stop reason.

    python benchmarks/long_records.py                   # max_time 1800 s (about 45 min on 2 cores)
    python benchmarks/long_records.py --fs 400          # the same windows resampled to 400 Hz
    python benchmarks/long_records.py --n-jobs 1        # or half the cores
    python benchmarks/long_records.py --quick           # 4 records a side, max_time 20 s: a check

MiniRocket needs aeon (the ``bench`` extra).  Writes
``benchmarks/results/long_records[_fs<fs>][_jobs<n>][_partial].json``, ``.md`` and ``_mitdb_30s_rhythm.png``;
``--quick``, ``--records``, ``--contenders`` or another ``--max-time`` make a partial run.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import time
import warnings

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score

from data import DATA, DS1, DS2, RESULTS
from suite import isolated, write

from sklearn_autonet.ecg import BEAT_SYMBOLS, BandpassFilter, load_windows, read_annotation

AF_RECORDS = {"201", "202", "203", "210", "217", "219", "221", "222"}
CLASSES = ["N", "AF", "other"]
RHYTHM_CLASS = {"N": "N", "AFIB": "AF", "AFL": "AF"}
LENGTH = 30.0
CONTENDERS = ("AutoNet", "AutoNet+RR", "MiniRocket+Ridge", "HistGB-RR")
RR_NAMES = ("beats", "rr_mean", "rr_sd", "rr_min", "rr_max", "rr_cv", "rmssd", "rmssd_over_mean", "pnn50",
            "masd_over_mean")


def rhythm_class(annotation, start, stop):
    """``N``, ``AF`` or ``other`` when one class holds over ``[start, stop)``, else ``"mixed"``."""
    symbols = np.asarray(annotation.symbol, dtype=object)
    notes = np.asarray(annotation.aux_note, dtype=object)
    change = (symbols == "+") & np.array([bool(str(n).strip("\x00 ")) for n in notes])
    at = np.asarray(annotation.sample)[change]
    names = [str(n).strip("\x00 ").lstrip("(") for n in notes[change]]
    in_force = np.searchsorted(at, start, side="right") - 1  # the episode running at the window's start
    first = max(in_force, 0)
    last = np.searchsorted(at, stop, side="left")  # episodes that start inside the window
    classes = {RHYTHM_CLASS.get(name, "other") for name in names[first:last]}
    return classes.pop() if len(classes) == 1 else "mixed"


def rr_window_features(beat_samples, start, length, fs):
    """RR statistics (:data:`RR_NAMES`) of the beats in ``[start, start + length)``; NaN under 3 beats."""
    inside = beat_samples[(beat_samples >= start) & (beat_samples < start + length)]
    rr = np.diff(inside) / fs
    if len(rr) < 2:
        return np.r_[len(inside), np.full(len(RR_NAMES) - 1, np.nan)]
    step = np.abs(np.diff(rr))
    mean, sd = rr.mean(), rr.std()
    rmssd = np.sqrt(np.mean(step ** 2))
    return np.array([len(inside), mean, sd, rr.min(), rr.max(), sd / mean, rmssd, rmssd / mean,
                     np.mean(step > 0.05), step.mean() / mean])


def load(records, fs):
    """Windows, labels, record of each window and their RR statistics; mixed windows dropped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lead-off windows are dropped and counted by load_windows
        data = load_windows(DATA / "mitdb", records, length=LENGTH, fs=fs, leads="MLII", label=rhythm_class,
                            preprocess=BandpassFilter(0.5, 40, sampling_rate=360))
    native = int(round(LENGTH * 360))
    beats = {}
    for name in records:
        ann = read_annotation(DATA / "mitdb" / name)
        is_beat = np.isin(np.asarray(ann.symbol, dtype=object), list(BEAT_SYMBOLS))
        beats[name] = np.unique(np.asarray(ann.sample)[is_beat])
    rr = np.array([rr_window_features(beats[g], s, native, 360.0) for g, s in zip(data.groups, data.starts)])
    keep = data.y != "mixed"
    return data.X[keep], data.y[keep], data.groups[keep], rr[keep], int((~keep).sum())


def depth_of(history):
    return max(int(d) for d in history["depth"])


def _usage():
    self, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {key: getattr(self, key) + getattr(children, key)
            for key in ("ru_utime", "ru_stime", "ru_minflt", "ru_majflt")}


def _fit_and_predict(name, options, train, test):
    """Child process: build ``name``, fit it on ``train``, predict ``test``; figures of the fit."""
    if name == "AutoNet+RR":
        from sklearn_autonet import AutoNetLCNClassifier
        from sklearn_autonet.ecg import SignalStandardizer

        standardise, fill = SignalStandardizer(), np.nanmedian(train["rr"], axis=0)
        X_train, X_test = (
            np.hstack([standardise.fit_transform(d["X"]).reshape(len(d["X"]), -1),
                       np.where(np.isnan(d["rr"]), fill, d["rr"])]).astype(np.float32)
            for d in (train, test))
        model = AutoNetLCNClassifier(
            signal_shape=train["X"].shape[1:], sampling_rate=options["fs"], class_weight="balanced",
            max_time=options["max_time"], n_jobs=options["n_jobs"], random_state=0)
        fit_kwargs = {"groups": train["groups"]}
    elif name == "AutoNet":
        from sklearn.pipeline import make_pipeline

        from sklearn_autonet import AutoNetLCNClassifier
        from sklearn_autonet.ecg import SignalStandardizer

        model = make_pipeline(SignalStandardizer(), AutoNetLCNClassifier(
            sampling_rate=options["fs"], class_weight="balanced", max_time=options["max_time"],
            n_jobs=options["n_jobs"], random_state=0))
        fit_kwargs = {"autonetlcnclassifier__groups": train["groups"]}
        X_train, X_test = train["X"], test["X"]
    elif name == "MiniRocket+Ridge":
        from contenders import MiniRocketRidge

        shape = train["X"].shape[1:]
        model, fit_kwargs = MiniRocketRidge(signal_shape=shape, class_weight="balanced"), {}
        X_train, X_test = (x.reshape(len(x), -1) for x in (train["X"], test["X"]))
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model, fit_kwargs = HistGradientBoostingClassifier(class_weight="balanced", random_state=0), {}
        X_train, X_test = train["rr"], test["rr"]
    from contenders import n_parameters

    before, start = _usage(), time.perf_counter()
    model.fit(X_train, train["y"], **fit_kwargs)
    fit_seconds = time.perf_counter() - start
    after = _usage()
    out = {
        "y_pred": model.predict(X_test).tolist(),
        "fit_seconds": fit_seconds,
        "user_s": after["ru_utime"] - before["ru_utime"],
        "system_s": after["ru_stime"] - before["ru_stime"],
        "minor_page_faults": after["ru_minflt"] - before["ru_minflt"],
        "major_page_faults": after["ru_majflt"] - before["ru_majflt"],
        "n_parameters": n_parameters(model),
    }
    if name.startswith("AutoNet"):
        clf = model[-1] if name == "AutoNet" else model
        out.update(depth_reached=depth_of(clf.search_history_), depth_selected=clf.architecture_.spec.depth,
                   candidates=len(clf.search_history_["candidate"]), stop_reason=clf.stop_reason_,
                   architecture=clf.architecture_.spec.describe(),
                   epochs=int(np.sum(clf.search_history_["epochs"])))
    return out


def class_scores(name, out, y_test, classes):
    """One result row of contender ``name``: its fit figures ``out`` (their ``y_pred`` scored) and per-class F1.

    Macro-F1 averages the classes present in ``y_test``; a class absent there
    has F1 None.  The record benchmarks (this one and ``rhythm.py``) share it.
    """
    y_pred = np.asarray(out.pop("y_pred"))
    f1 = f1_score(y_test, y_pred, labels=classes, average=None, zero_division=0)
    present = np.isin(classes, y_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a quick run's test side may lack a class
        balanced = balanced_accuracy_score(y_test, y_pred)
    return {"contender": name, "macro_f1": float(np.mean(f1[present])),
            **{f"f1_{c}": float(v) if p else None for c, v, p in zip(classes, f1, present)},
            "balanced_accuracy": balanced, **out}


def score(name, out, y_test):
    """One result row, with the system share of the fit's CPU time."""
    row = class_scores(name, out, y_test, CLASSES)
    row["system_share"] = row["system_s"] / max(row["user_s"] + row["system_s"], 1e-9)
    return row


def summary(row):
    """One line of a result row."""
    f1 = ", ".join(f"{c} {row[f'f1_{c}']:.3f}" for c in CLASSES if row[f"f1_{c}"] is not None)
    line = (f"{row['contender']:17s} macro-F1 {row['macro_f1']:.3f} ({f1})  fit {row['fit_seconds']:.0f} s  "
            f"user {row['user_s']:.0f} s  system {row['system_s']:.0f} s ({row['system_share']:.0%})")
    if "depth_reached" in row:
        line += f"  depth {row['depth_reached']}, {row['candidates']} candidates, {row['stop_reason']}"
    return line


def markdown_table(rows, columns):
    """A markdown table of ``columns`` of ``rows`` (floats to 3 decimals, missing values as ``-``)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = ["-" if row.get(c) is None else row[c] for c in columns]
        lines.append("| " + " | ".join(f"{c:.3f}" if isinstance(c, float) else str(c) for c in cells) + " |")
    return "\n".join(lines)


def table(rows):
    return markdown_table(rows, [
        "contender", "macro_f1", *(f"f1_{c}" for c in CLASSES), "balanced_accuracy", "fit_seconds", "user_s",
        "system_s", "system_share", "minor_page_faults", "depth_reached", "depth_selected", "candidates",
        "stop_reason"])


def write_results(suite, dataset, block, command, note, table_text):
    """Write the suite's files (:func:`suite.write`), add ``note`` and ``table_text`` to its markdown, print the table."""
    write(suite, {dataset: block}, command)
    with open(RESULTS / f"{suite}.md", "a") as handle:
        handle.write(f"\n{note}\n\n{table_text}\n")
    print(table_text)


def pick(records, limit):
    """All ``records`` (``limit`` None), else the first ``limit`` taking AF and other records in turn."""
    if limit is None:
        return list(records)
    af = [r for r in records if r in AF_RECORDS]
    rest = [r for r in records if r not in AF_RECORDS]
    turns = [r for pair in zip(af, rest) for r in pair] + rest[len(af):] + af[len(rest):]
    return turns[:limit]


def parse_options(parser, argv, contenders, max_time):
    """Add the options the record benchmarks share, parse ``argv``; ``--quick`` and aeon settled."""
    parser.add_argument("--max-time", type=float, default=max_time, help="AutoNet's max_time in seconds")
    parser.add_argument("--records", type=int, default=None, help="records per side, AF and other records in turn")
    parser.add_argument("--contenders", nargs="+", choices=contenders, default=list(contenders))
    parser.add_argument("--quick", action="store_true", help="4 records a side, max_time 20 s: a check")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.max_time = args.records or 4, 20.0
    if "MiniRocket+Ridge" in args.contenders and importlib.util.find_spec("aeon") is None:
        others = " ".join(c for c in contenders if c != "MiniRocket+Ridge")
        sys.exit(f'MiniRocket needs aeon: pip install "sklearn-autonet[bench]", or leave it out with '
                 f"--contenders {others}")
    return args


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fs", type=float, default=360.0, help="sampling rate of the windows (records resampled)")
    parser.add_argument("--n-jobs", type=int, default=1, help="AutoNet's n_jobs")
    args = parse_options(parser, argv, CONTENDERS, 1800.0)
    train_records, test_records = pick(DS1, args.records), pick(DS2, args.records)
    t0 = time.perf_counter()
    X_tr, y_tr, g_tr, rr_tr, mixed_tr = load(train_records, args.fs)
    X_te, y_te, g_te, rr_te, mixed_te = load(test_records, args.fs)
    counts = {side: {c: int(np.sum(y == c)) for c in CLASSES} for side, y in (("train", y_tr), ("test", y_te))}
    print(f"{len(train_records)} DS1 records -> {len(test_records)} DS2 records, windows {X_tr.shape[1:]} at "
          f"{args.fs:g} Hz (read in {time.perf_counter() - t0:.0f} s); train {counts['train']}, test "
          f"{counts['test']}; mixed windows dropped: {mixed_tr} train, {mixed_te} test", flush=True)
    train = {"X": X_tr, "y": y_tr, "groups": g_tr, "rr": rr_tr}
    test = {"X": X_te, "rr": rr_te}
    options = {"fs": args.fs, "max_time": args.max_time, "n_jobs": args.n_jobs}
    rows = []
    for name in args.contenders:
        row = score(name, isolated(_fit_and_predict, name, options, train, test), y_te)
        rows.append(row)
        print("  " + summary(row), flush=True)
    command = "python benchmarks/long_records.py " + " ".join(sys.argv[1:] if argv is None else argv)
    partial = args.quick or args.records or args.max_time != 1800.0 or len(args.contenders) < len(CONTENDERS)
    suite = ("long_records" + (f"_fs{args.fs:g}" if args.fs != 360 else "")
             + (f"_jobs{args.n_jobs}" if args.n_jobs != 1 else "") + ("_partial" if partial else ""))
    block = {"train": "DS1", "test": "DS2", "train_records": train_records, "test_records": test_records,
             "window_s": LENGTH, "fs": args.fs, "counts": counts,
             "mixed_dropped": {"train": mixed_tr, "test": mixed_te}, "options": options, "results": rows}
    write_results(suite, "mitdb_30s_rhythm", block, command.strip(),
                  f"Train (DS1) {counts['train']}, test (DS2) {counts['test']} windows of {LENGTH:g} s at "
                  f"{args.fs:g} Hz; mixed windows dropped: {mixed_tr} train, {mixed_te} test.", table(rows))


if __name__ == "__main__":
    main()
