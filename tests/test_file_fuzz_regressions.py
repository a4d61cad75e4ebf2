"""Hostile model files that fuzzing the loaders found: each must end in npdeep's own error,
naming the file and the problem, without a hang or a large allocation. The last tests mutate
valid files (seeded, a fixed number of cases) and accept only an equal model or an NpdeepError.
"""

import io
import json
import warnings
import zipfile

import numpy as np
import pytest
from cli_helpers import call
from file_helpers import edit_header, retouched, valid_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npdeep
from npdeep.checkpoint import load_checkpoint
from npdeep.errors import ModelFileError, NpdeepError
from npdeep.io import MAX_ARRAYS, load_model_file, save_model_file

X = np.random.default_rng(0).normal(size=(40, 3))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One valid file of each kind: network, estimator, pipeline, checkpoint."""
    return valid_files(tmp_path_factory.mktemp("valid"), X)


def _with_members(src, dst, extra):
    """Copy the model file ``src`` to ``dst`` with the members ``extra`` (name, bytes) added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
        for name, data in extra:
            zout.writestr(name, data)


def test_many_unexpected_members_are_counted_once_and_listed_briefly(tmp_path, files):
    # before: the repeated members were counted with list.count, O(n^2): 60,000 members hung,
    # and the message listed every name
    _with_members(files["net"], tmp_path / "many.npz", [(f"m{i}", b"") for i in range(3000)])
    with pytest.raises(ModelFileError, match=r"many.npz'?: archive members do not match the "
                       r"manifest \(unexpected \['m0', 'm1', 'm10', .*, "
                       r"\.\.\. \(3000 in all\)\]\)$"):
        npdeep.load(tmp_path / "many.npz")


def test_a_manifest_of_too_many_arrays_is_refused_before_reading(tmp_path, files):
    # before: each of 60,000 empty arrays was opened and parsed (8 s) before the architecture
    # check refused them
    def declare(header):
        entry = dict(header["arrays"]["W1"])
        header["arrays"].update({f"z{i}": entry for i in range(MAX_ARRAYS)})

    edit_header(files["net"], tmp_path / "wide.npz", declare)
    with pytest.raises(ModelFileError, match=rf"wide.npz'?: the manifest declares "
                       rf"{MAX_ARRAYS + 4} arrays, more than the {MAX_ARRAYS} a model file may "
                       r"hold \(npdeep writes two per layer\); refusing to read them"):
        npdeep.load(tmp_path / "wide.npz")


def test_max_elements_caps_the_bytes_of_wide_dtypes(tmp_path):
    # before: complex256 elements under the element cap asked for 4x its 2 GiB: MemoryError
    save_model_file(tmp_path / "c.npz", {"kind": "other"}, {"z": np.ones(10, np.complex128)})
    with pytest.raises(ModelFileError, match=r"c.npz'?: arrays declare 160 bytes in total, more "
                       r"than the 80 of max_elements=10 float64 elements; refusing to allocate "
                       r"them. If you trust the file, raise the cap to max_elements=20 "):
        load_model_file(tmp_path / "c.npz", max_elements=10)
    assert load_model_file(tmp_path / "c.npz", max_elements=20)[1]["z"].dtype == np.complex128


@pytest.mark.parametrize("dtype, message", [
    ("|O", r"array 'W1' has dtype object; only numeric dtypes are loaded, never objects"),
    ("<U3", r"array 'W1' has dtype <U3; only numeric dtypes are loaded"),
    ("<f8,<i4", r"array 'W1' has dtype \[\('f0', '<f8'\), \('f1', '<i4'\)\]; only numeric"),
    ("x" * 300, r"manifest dtype of 'W1' is malformed \('xxxx"),
])
def test_a_manifest_dtype_is_checked_before_any_array_is_read(tmp_path, files, dtype, message):
    edit_header(files["net"], tmp_path / "d.npz",
                lambda h: h["arrays"]["W1"].update(dtype=dtype))
    with pytest.raises(ModelFileError, match=r"d.npz'?: " + message):
        npdeep.load(tmp_path / "d.npz")


def test_an_allocation_the_system_refuses_is_a_model_file_error(tmp_path, files, monkeypatch):
    def refuse(*args, **kwargs):
        raise MemoryError("Unable to allocate")

    monkeypatch.setattr("npdeep._io_load.np.empty", refuse)
    with pytest.raises(ModelFileError, match=r"net.npz'?: not enough memory to load array "
                       r"'W1' \(96 bytes\)"):
        npdeep.load(files["net"])


def test_a_checkpoint_rng_state_nested_too_deeply(tmp_path, files, capsys):
    # before: RecursionError from json.loads, in load_checkpoint, resume and inspect
    bad = retouched(files["ck"], tmp_path / "deep.npz",
                    lambda h, a: h["training"].update(rng_state="[" * 100_000 + "]" * 100_000))
    message = "invalid training state in the checkpoint: it nests too deeply"
    with pytest.raises(ModelFileError, match=r"deep.npz'?: " + message):
        load_checkpoint(bad)
    code, _, err = call(capsys, "inspect", bad)
    assert code == 1 and message in err


@pytest.mark.parametrize("edit, message", [
    (lambda h: h["steps"][0].update(feature_names_in_={"a": 1}),
     r"step 0 feature_names_in_ must be a list of 3 strings, one per input, got \{'a': 1\}"),
    (lambda h: h["steps"][0].update(feature_names_in_=[[1, 2]] * 3),
     r"step 0 feature_names_in_ must be a list of 3 strings, one per input, got \[\[1, 2\]"),
    (lambda h: h["steps"][0].update(n_samples_seen_={"__pairs__": [[[1], 2]]}),
     r"step 0 n_samples_seen_ must be a whole number >= 0 or a list of 3 of them, got"),
    (lambda h: h["steps"][0].update(n_samples_seen_=-4),
     r"step 0 n_samples_seen_ must be a whole number >= 0 or a list of 3 of them, got -4"),
    (lambda h: h["steps"][1]["state"].update(feature_names_in_=[["a"], ["b"], ["c"]]),
     r"feature_names_in_ must be a list of strings, one per input, got \[\['a'\]"),
])
def test_pipeline_fitted_names_and_counts_have_their_types(tmp_path, files, edit, message):
    # before: a dict became a 0-d object array (inspect: TypeError), nested lists a 2-d one
    edit_header(files["pipe"], tmp_path / "p.npz", edit)
    with pytest.raises(ModelFileError, match=r"p.npz'?: " + message):
        npdeep.load(tmp_path / "p.npz")


def test_pipeline_files_keep_loading_their_counts(files):
    pipe = npdeep.load(files["pipe"])
    assert pipe[0].n_samples_seen_ == 40 and pipe.predict(X).shape == (40,)


def test_history_values_beyond_float_range(tmp_path, files, capsys):
    edit_header(files["net"], tmp_path / "far.npz",
                lambda h: h.update(history={"epoch": [0, 1], "cost": [1, 10**400]}))
    with pytest.raises(ModelFileError, match=r"far.npz'?: invalid model: history 'cost' must "
                       "hold numbers"):
        npdeep.load(tmp_path / "far.npz")
    # an int a float holds plots (before: TypeError from isfinite on an object array)
    edit_header(files["net"], tmp_path / "big.npz",
                lambda h: h.update(history={"epoch": [0, 1, 2], "cost": [1, 2, 10**30]}))
    code, _, err = call(capsys, "plot", tmp_path / "big.npz", "-o", tmp_path / "h.png")
    assert code == 0, err


# ------------------------------------------------------------------ seeded mutations
MUTATED = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])
NASTY = [None, True, -1, 0, 2**63, 1.5, float("nan"), float("inf"), "x", "relu", "",
         [], {}, [1], [[1]], {"a": 1}, ["x"], [-1], "a" * 5000]


def _same_model(a, b) -> bool:
    if isinstance(a, npdeep.Network):
        return a.units == b.units and all(np.array_equal(a.parameters[k], b.parameters[k])
                                          for k in a.parameters)
    return np.array_equal(a.predict(X), b.predict(X))


def _loads_or_refuses(path):
    """Load ``path`` every way; return the model, or None where npdeep refused it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = npdeep.load(path)
    except NpdeepError:
        return None
    return model


@MUTATED
@given(kind=st.sampled_from(["net", "est", "pipe", "ck"]), data=st.data())
def test_corrupt_bytes_load_the_same_model_or_are_refused(tmp_path, files, kind, data):
    raw = bytearray(files[kind].read_bytes())
    if data.draw(st.booleans(), "truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), "length")]
    else:
        for _ in range(data.draw(st.integers(1, 4), "flips")):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "m.npz"
    path.write_bytes(bytes(raw))
    model = _loads_or_refuses(path)
    assert model is None or _same_model(model, npdeep.load(files[kind]))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value[:8]):
            yield from _paths(item, prefix + (i,))


@MUTATED
@given(kind=st.sampled_from(["net", "est", "pipe", "ck"]), data=st.data())
def test_rewritten_headers_load_or_are_refused(tmp_path, files, kind, data):
    with zipfile.ZipFile(files[kind]) as z:
        header = json.loads(z.read("header.json"))
    paths = [p for p in _paths(header) if p and p[0] != "arrays"]
    where = data.draw(st.sampled_from(paths), "path")
    value = data.draw(st.sampled_from(NASTY + ["delete"]), "value")

    def edit(h):
        parent = h
        for key in where[:-1]:
            parent = parent[key]
        if value == "delete":
            del parent[where[-1]]
        else:
            parent[where[-1]] = value

    path = tmp_path / "m.npz"
    edit_header(files[kind], path, edit)
    _loads_or_refuses(path)  # anything but an NpdeepError fails the test
    for load in (npdeep.Network.load, npdeep.load_trained, load_checkpoint):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                load(path)
        except NpdeepError:
            pass


def test_a_pickle_in_an_array_member_is_never_unpickled(tmp_path, files):
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(files["net"]) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["W1.npy"] = buf.getvalue()
    with zipfile.ZipFile(tmp_path / "p.npz", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"p.npz'?: array 'W1' has dtype object; only "
                       "numeric dtypes are loaded, never objects"):
        npdeep.load(tmp_path / "p.npz")


@pytest.mark.parametrize("kind, edit, message", [
    ("est", lambda h: h.update(architecture=[1]),
     r"invalid estimator architecture \[1\] \(expected a JSON object\)"),
    ("pipe", lambda h: h["steps"].__setitem__(0, "StandardScaler"),
     r"pipeline step 0 is 'StandardScaler', not a JSON object describing a step"),
    ("net", lambda h: h.update(training=[1, 2]),
     r"invalid model header: 'training' must be a JSON object, got \[1, 2\]"),
])
def test_header_values_of_the_wrong_json_type_are_named(tmp_path, files, kind, edit, message,
                                                       capsys):
    # "list indices must be integers or slices, not str", "'str' object has no attribute
    # 'get'"; a network with "training": [1, 2] loaded through npdeep.load only
    edit_header(files[kind], tmp_path / "m.npz", edit)
    with pytest.raises(ModelFileError, match=message):
        npdeep.load(tmp_path / "m.npz")
    code, _, err = call(capsys, "inspect", str(tmp_path / "m.npz"))
    assert code == 1 and "Traceback" not in err
