"""Copies of real wfdb records, written with wfdb and damaged on purpose, for the ECG reader tests."""

import numpy as np

FS = 360
MINUTE = 60 * FS


def write_copy(mitdb, folder, name="100", sampto=MINUTE, damage=None, annotations=True, as_name=None, edit=None):
    """The first ``sampto`` samples of a real record, rewritten with wfdb (format 212, same gain).

    ``damage(p_signal)`` changes the signal in mV before it is written; NaN
    becomes the format's invalid-sample value, which wfdb reads back as NaN.
    ``edit(samples, symbols, aux_notes)`` returns the annotations to write instead
    of the record's own (those before ``sampto``).
    """
    import wfdb

    record = wfdb.rdrecord(str(mitdb / name), sampto=sampto)
    signal = record.p_signal.copy()
    if damage is not None:
        damage(signal)
    as_name = as_name or name
    folder.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(
        as_name, fs=record.fs, units=record.units, sig_name=record.sig_name, p_signal=signal,
        fmt=record.fmt, adc_gain=record.adc_gain, baseline=record.baseline, write_dir=str(folder),
    )
    if annotations:
        ann = wfdb.rdann(str(mitdb / name), "atr", sampto=sampto)
        inside = np.flatnonzero(ann.sample < sampto)  # rdann's sampto includes sampto itself
        samples, symbols = ann.sample[inside], [ann.symbol[i] for i in inside]
        notes = [ann.aux_note[i] for i in inside]
        if edit is not None:
            samples, symbols, notes = edit(samples, symbols, notes)
        wfdb.wrann(as_name, "atr", np.asarray(samples), list(symbols), aux_note=list(notes), write_dir=str(folder))
    return folder


def lead_off(start, stop, lead=0, value=np.nan):
    """A ``damage`` for :func:`write_copy`: samples ``[start, stop)`` of ``lead`` set to ``value``."""

    def damage(signal):
        signal[start:stop, lead] = value

    return damage
