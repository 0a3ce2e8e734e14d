"""Fuzzing the model-file loader: a hostile or damaged file loads identically or raises ValueError.

Every case asserts that ``load`` either returns a model whose ``predict_proba``
equals the saved one's or raises :class:`ValueError`: never KeyError, TypeError,
RuntimeError, MemoryError, a hang or a crash.  The in-process cases run under an
address-space cap (``RLIMIT_AS``, the process's size plus 1.5 GiB); the
deliberately huge files (an entry that inflates to 256 MiB, a spec declaring a
30000 x 30000 layer, ``/dev/zero``, a FIFO) run in a subprocess whose peak RSS
is measured.
"""

import contextlib
import hashlib
import io
import json
import os
import resource
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_autonet import AutoNetLCNClassifier, load, save  # noqa: E402
from sklearn_autonet.persistence import MAX_PARAMETERS  # noqa: E402

#: Examples per fuzz test, the same ones every run; AUTONET_FUZZ_EXAMPLES=5000 for a longer,
#: randomised hunt.
_HUNT = os.environ.get("AUTONET_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(_HUNT or 100), deadline=None, database=None, derandomize=not _HUNT)
#: Address space the in-process fuzzing may add to what the process already maps.
MEMORY_CAP = int(1.5 * 2**30)
#: Peak RSS a hostile file may add to ``load`` in the subprocess.
RSS_BOUND_MB = 150
#: Fields whose valid values change the function the network computes (or its rounding).
CHANGES_FUNCTION = {("spec", "activation"), ("net", "precision")}
CHANGES_ROUNDING = {("net", "batch_size")}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny fitted model, its file in both formats, its input and predict_proba."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4).astype(np.float32)
    y = np.where(X[:, 0] + X[:, 1] > 0, "up", "down")
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, random_state=0).fit(X, y)
    folder = tmp_path_factory.mktemp("fuzz")
    files = {v: Path(save(clf, folder / f"model{v}.autonet", format_version=v)) for v in (1, 2)}
    return {"clf": clf, "X": X, "proba": clf.predict_proba(X), "files": files, "folder": folder}


@contextlib.contextmanager
def memory_cap():
    """Cap the address space at its current size plus MEMORY_CAP (Linux; elsewhere no cap)."""
    try:
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + MEMORY_CAP
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def check(model, data, *, changed=None):
    """Write ``data`` as a model file; load must give the saved model back or raise ValueError."""
    path = model["folder"] / "case.autonet"
    path.write_bytes(data)
    with warnings.catch_warnings(), memory_cap():
        warnings.simplefilter("ignore")
        try:
            loaded = load(path)
        except ValueError as exc:
            event(f"refused: {str(exc).removeprefix(str(path)).split(',')[0][:60]}")
            return "refused"
        proba = loaded.predict_proba(model["X"])
    event("loaded" + (f" ({changed[0]}.{changed[1]} changed)" if changed else ""))
    if changed in CHANGES_FUNCTION:  # a valid other model: it must still predict
        assert proba.shape == model["proba"].shape and np.isfinite(proba).all()
    elif changed in CHANGES_ROUNDING:
        np.testing.assert_allclose(proba, model["proba"], rtol=0, atol=1e-6)
    else:
        np.testing.assert_array_equal(proba, model["proba"])
    return "loaded"


def entries(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bytes(contents):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def json_paths(value, prefix=()):
    """Every path into a JSON value (lists: their first three items)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value[:3]):
            yield from json_paths(item, prefix + (i,))


HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2, 3, 2**31, 2**63, 10**18, 30000, MAX_PARAMETERS + 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "float32", "bfloat16", "tanh", "relu", "conv", "dense", "head", "signal",
                     "tabular", "<U5", "<U100000000", "O", "int64", "complex64", "F32", "auto"]),
    st.lists(st.integers(-3, 40), max_size=4),
    st.lists(st.sampled_from([30000, 2**40, -5]), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(-2, 5), max_size=3),
)


# ----------------------------------------------------------- whole-file damage
@pytest.mark.parametrize("version", [1, 2])
@FUZZ
@given(data=st.data())
def test_truncations(model, version, data):
    raw = model["files"][version].read_bytes()
    keep = data.draw(st.integers(0, len(raw) - 1))
    assert check(model, raw[:keep]) == "refused"


@pytest.mark.parametrize("version", [1, 2])
@FUZZ
@given(data=st.data())
def test_byte_flips(model, version, data):
    raw = bytearray(model["files"][version].read_bytes())
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)), min_size=1, max_size=4))
    for position, mask in flips:
        raw[position] ^= mask
    check(model, bytes(raw))


@pytest.mark.parametrize("version", [1, 2])
@FUZZ
@given(data=st.data())
def test_inflated_and_shrunk_entry_sizes(model, version, data):
    """Declared sizes in the local headers and the central directory, rewritten at random."""
    raw = bytearray(model["files"][version].read_bytes())
    with zipfile.ZipFile(model["files"][version]) as archive:
        infos = archive.infolist()
    directory = raw.rfind(b"PK\x05\x06")
    central = [i for i in range(len(raw)) if raw[i : i + 4] == b"PK\x01\x02" and i < directory]
    fields = [(info.header_offset + 18, "compressed") for info in infos]
    fields += [(info.header_offset + 22, "uncompressed") for info in infos]
    fields += [(offset + 20, "compressed") for offset in central]
    fields += [(offset + 24, "uncompressed") for offset in central]
    chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True))
    for offset, _ in chosen:
        old = struct.unpack_from("<L", raw, offset)[0]
        new = data.draw(st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, old + 1, old * 1000, 2**32 - 1])))
        struct.pack_into("<L", raw, offset, min(new, 2**32 - 1))
    check(model, bytes(raw))


# ------------------------------------------------------------ metadata fields
@pytest.mark.parametrize("version", [1, 2])
@FUZZ
@given(data=st.data())
def test_mutated_metadata_fields(model, version, data):
    """Delete a key or replace a value (types, huge numbers, negative sizes, nesting) anywhere."""
    contents = entries(model["files"][version])
    meta = json.loads(contents["metadata.json"])
    paths = [p for p in json_paths(meta) if p]
    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from(paths))
        parent = meta
        try:
            for part in path[:-1]:
                parent = parent[part]
            old = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "perturb"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "perturb" and isinstance(old, int) and not isinstance(old, bool):
            parent[path[-1]] = old + data.draw(st.sampled_from([-2, -1, 1, 2, old * 999, -2 * old]))
        else:
            parent[path[-1]] = data.draw(HOSTILE)
    saved = json.loads(contents["metadata.json"])
    contents["metadata.json"] = json.dumps(meta).encode()
    check(model, zip_bytes(contents), changed=changed_field(meta, saved))


def changed_field(meta, saved):
    """The field that legitimately changes predictions and differs from the saved file, if any."""
    changed = None
    for first, second in sorted(CHANGES_ROUNDING) + sorted(CHANGES_FUNCTION):  # function wins
        if _get(meta, first, second) != _get(saved, first, second):
            changed = (first, second)
    return changed


def _get(meta, first, second):
    node = meta.get(first)
    return node.get(second, "<absent>") if isinstance(node, dict) else "<no object>"


# -------------------------------------------------- the weights, checksum fixed
@FUZZ
@given(data=st.data())
def test_mutated_safetensors_header(model, data):
    """Flips inside the safetensors header, with the checksum recomputed so the parser sees them."""
    contents = entries(model["files"][2])
    blob = bytearray(contents["weights.safetensors"])
    header_end = 8 + int.from_bytes(blob[:8], "little")
    flips = data.draw(st.lists(st.tuples(st.integers(0, header_end - 1), st.integers(1, 255)), min_size=1, max_size=3))
    for position, mask in flips:
        blob[position] ^= mask
    meta = json.loads(contents["metadata.json"])
    meta["weights_sha256"] = hashlib.sha256(bytes(blob)).hexdigest()
    contents.update({"metadata.json": json.dumps(meta).encode(), "weights.safetensors": bytes(blob)})
    check(model, zip_bytes(contents))


# ------------------------------------------------ huge files, bounded memory
HOSTILE_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from sklearn_autonet import load

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with open("/proc/self/status") as status:
        size = next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + {cap}, resource.getrlimit(resource.RLIMIT_AS)[1]))
    load(sys.argv[1])  # a good file first: what loading costs anyway
    baseline = peak_mb()
    results = {{}}
    for path in sys.argv[2:]:
        try:
            load(path)
            outcome = "loaded"
        except ValueError as exc:
            outcome = "ValueError: " + str(exc)
        except BaseException as exc:
            outcome = type(exc).__name__ + ": " + str(exc)
        results[path] = [outcome, peak_mb() - baseline]
    print(json.dumps(results))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and ru_maxrss in KiB")
def test_hostile_files_in_bounded_memory(model, tmp_path):
    good = model["files"][2]
    contents = entries(good)
    meta = json.loads(contents["metadata.json"])
    cases = {}

    bomb = tmp_path / "bomb.autonet"  # 256 MiB of zeros in a file of about 256 kB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("metadata.json", contents["metadata.json"])
        with archive.open("weights.safetensors", "w") as entry:
            for _ in range(256):
                entry.write(bytes(2**20))
    cases[bomb] = "declares 268,435,456 bytes uncompressed"

    raw = bytearray(bomb.read_bytes())  # the same, its headers claiming the real weights' size
    with zipfile.ZipFile(bomb) as archive:
        info = archive.getinfo("weights.safetensors")
    struct.pack_into("<L", raw, info.header_offset + 22, len(contents["weights.safetensors"]))
    struct.pack_into("<L", raw, raw.rfind(b"PK\x01\x02") + 24, len(contents["weights.safetensors"]))
    lying = tmp_path / "lying.autonet"
    lying.write_bytes(bytes(raw))
    cases[lying] = "Bad CRC-32"

    n = 30000  # a 3 kB file declaring a 30000 x 30000 layer, its tensors declared to match
    huge_meta = json.loads(json.dumps(meta))
    spec = huge_meta["spec"]
    spec["input_shape"] = [n]
    spec["layers"][0].update(in_channels=n, width=n)
    spec["layers"][-1]["in_channels"] = n
    tensors = huge_meta["tensors"]
    tensors["blocks.0.linear.weight"]["shape"] = [n, n]
    for key in ("weight", "bias", "running_mean", "running_var"):
        tensors[f"blocks.0.norm.{key}"]["shape"] = [n]
    tensors["head.weight"]["shape"][1] = n
    huge = tmp_path / "huge.autonet"
    huge.write_bytes(zip_bytes({"metadata.json": json.dumps(huge_meta), "weights.safetensors": contents["weights.safetensors"]}))
    cases[huge] = "more than the cap MAX_PARAMETERS"

    fifo = tmp_path / "fifo.autonet"
    os.mkfifo(fifo)
    cases[fifo] = "is a FIFO, not a regular file"
    if os.path.exists("/dev/zero"):
        cases[Path("/dev/zero")] = "is a character device, not a regular file"

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]), OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-c", HOSTILE_SCRIPT.format(cap=MEMORY_CAP), str(good), *map(str, cases)],
        capture_output=True, text=True, timeout=120, cwd=root, env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for path, expected in cases.items():
        outcome, grown_mb = report[str(path)]
        assert outcome.startswith("ValueError: ") and expected in outcome, (path, outcome)
        assert grown_mb < RSS_BOUND_MB, (path, grown_mb)
