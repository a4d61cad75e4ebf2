"""Tests of the model file container: round trips, atomic saves and every refusal on load."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from npdeep.errors import ModelFileError, NpdeepError
from npdeep.io import FORMAT_VERSION, load_model_file, save_model_file


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Parameters of a 3-4-2 network: W[l]: (n[l], n[l-1]), b[l]: (n[l], 1)."""
    return {
        "W1": rng.standard_normal((4, 3)),
        "b1": rng.standard_normal((4, 1)),
        "W2": rng.standard_normal((2, 4)).astype(np.float32),
        "b2": np.array([[np.nan], [-np.inf]]),
        "steps": np.array(7, dtype=np.int64),
        "mask": np.array([True, False]),
    }


@pytest.fixture
def header() -> dict:
    return {
        "architecture": {"layer_sizes": [3, 4, 2], "activations": ["relu", "sigmoid"]},
        "history": {"loss": [0.7, 0.5, 0.25]},
        "seed": 0,
    }


@pytest.fixture
def saved(tmp_path: Path, header: dict, arrays: dict) -> Path:
    return save_model_file(tmp_path / "model.npdeep", header, arrays)


def _npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _craft(path: Path, header: dict, members: dict[str, bytes]) -> Path:
    """Write a zip by hand: ``header.json`` plus the given raw members."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.json", json.dumps(header))
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _entry(data: bytes, dtype: str, shape: list[int]) -> dict:
    return {"dtype": dtype, "shape": shape, "sha256": hashlib.sha256(data).hexdigest()}


def _base_header(manifest: dict) -> dict:
    return {"format": "npdeep", "format_version": 1, "npdeep_version": "0.1.0", "arrays": manifest}


# ----------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_is_bit_exact(tmp_path: Path, header: dict, arrays: dict, compress: bool):
    path = save_model_file(tmp_path / "m.npdeep", header, arrays, compress=compress)
    loaded_header, loaded = load_model_file(path)
    assert list(loaded) == list(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype
        assert loaded[name].shape == array.shape
        assert loaded[name].tobytes() == array.tobytes()  # bit for bit, NaN and -inf included
        assert loaded[name].flags.writeable
    for key, value in header.items():
        assert loaded_header[key] == value
    assert loaded_header["format"] == "npdeep"
    assert loaded_header["format_version"] == FORMAT_VERSION
    assert isinstance(loaded_header["npdeep_version"], str)
    assert loaded_header["arrays"]["W1"]["shape"] == [4, 3]
    assert loaded_header["arrays"]["W2"]["dtype"] == "<f4"


def test_load_gives_fresh_arrays_not_views_of_the_caller(saved: Path, arrays: dict):
    _, first = load_model_file(saved)
    first["W1"][...] = 0.0
    _, second = load_model_file(saved)
    assert np.array_equal(second["W1"], arrays["W1"])


def test_fortran_ordered_input_round_trips(tmp_path: Path, rng: np.random.Generator):
    W = np.asfortranarray(rng.standard_normal((5, 3)))
    _, loaded = load_model_file(save_model_file(tmp_path / "f.npdeep", {}, {"W1": W}))
    assert np.array_equal(loaded["W1"], W)


def test_same_content_gives_same_bytes(tmp_path: Path, header: dict, arrays: dict):
    a = save_model_file(tmp_path / "a.npdeep", header, arrays)
    b = save_model_file(tmp_path / "b.npdeep", header, arrays)
    assert a.read_bytes() == b.read_bytes()


def test_save_overwrites_previous_file(saved: Path, header: dict):
    assert save_model_file(str(saved), header, {"W1": np.full((2, 2), 3.0)}) == saved
    _, loaded = load_model_file(saved)
    assert list(loaded) == ["W1"]
    assert np.array_equal(loaded["W1"], np.full((2, 2), 3.0))


# ----------------------------------------------------------------------------------- saving


def test_save_into_missing_folder_names_the_folder(tmp_path: Path, header: dict, arrays: dict):
    folder = tmp_path / "no" / "such"
    with pytest.raises(ModelFileError, match=r"folder '.*no/such' does not exist"):
        save_model_file(folder / "m.npdeep", header, arrays)
    assert not folder.exists()


def test_save_under_a_file_or_onto_a_folder(tmp_path: Path, header: dict, arrays: dict):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ModelFileError, match=r"folder '.*plain' is not a folder"):
        save_model_file(tmp_path / "plain" / "m.npdeep", header, arrays)
    with pytest.raises(ModelFileError, match=r"cannot save model file '.*': it is a folder"):
        save_model_file(tmp_path, header, arrays)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes to read-only folders"
)
def test_save_into_unwritable_folder(tmp_path: Path, header: dict, arrays: dict):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ModelFileError, match=r"folder '.*locked' is not writable"):
            save_model_file(folder / "m.npdeep", header, arrays)
    finally:
        folder.chmod(0o700)


def test_a_name_too_long_for_the_file_system(tmp_path: Path, header: dict, arrays: dict):
    path = tmp_path / ("x" * 300 + ".npdeep")  # NAME_MAX is 255 bytes on common file systems
    with pytest.raises(ModelFileError, match=r"cannot save model file '.*x\.npdeep': File name "
                                             "too long"):
        save_model_file(path, header, arrays)
    with pytest.raises(ModelFileError, match=r"cannot read model file '.*x\.npdeep': File name "
                                             "too long"):
        load_model_file(path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_link_to_a_pipe_is_refused_not_replaced(tmp_path: Path, header: dict, arrays: dict):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"  # as /dev/stdout -> /proc/self/fd/1 -> a pipe
    link.symlink_to(fifo)
    with pytest.raises(ModelFileError, match=r"cannot save model file '.*stdout': it links to "
                                             "something that is not a regular file"):
        save_model_file(link, header, arrays)
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "stdout"]


def test_model_file_error_is_an_npdeep_error():
    assert issubclass(ModelFileError, NpdeepError)


def test_save_refuses_object_arrays(tmp_path: Path, header: dict):
    with pytest.raises(ModelFileError, match=r"array 'W1' has dtype object; .* only numeric"):
        save_model_file(tmp_path / "m.npdeep", header, {"W1": np.array([{}, 1], dtype=object)})
    with pytest.raises(ModelFileError, match=r"array 'names' has dtype <U1"):
        save_model_file(tmp_path / "m.npdeep", header, {"names": np.array(["a", "b"])})
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_reserved_and_non_json_header(tmp_path: Path, arrays: dict):
    with pytest.raises(ModelFileError, match=r"header keys \['format_version'\] are reserved"):
        save_model_file(tmp_path / "m.npdeep", {"format_version": 3}, arrays)
    with pytest.raises(ModelFileError, match="header is not strict JSON"):
        save_model_file(tmp_path / "m.npdeep", {"seed": np.random.default_rng(0)}, arrays)
    with pytest.raises(ModelFileError, match="header is not strict JSON"):
        save_model_file(tmp_path / "m.npdeep", {"best_loss": float("nan")}, arrays)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_unsafe_array_names(tmp_path: Path):
    with pytest.raises(ModelFileError, match=r"array name '\.\./evil' is not allowed"):
        save_model_file(tmp_path / "m.npdeep", {}, {"../evil": np.zeros(1)})


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, RuntimeError, OSError])
def test_interrupted_save_keeps_previous_file(
    saved: Path, header: dict, arrays: dict, monkeypatch: pytest.MonkeyPatch, interrupt: type
):
    before = saved.read_bytes()
    real_write_array = np.lib.format.write_array
    calls = []

    def write_half_then_fail(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # two arrays already written, the third one mid-way
            assert [p.suffix for p in saved.parent.iterdir()].count(".tmp") == 1
            buffer = io.BytesIO()
            real_write_array(buffer, array, allow_pickle=False)
            fp.write(buffer.getvalue()[:200])
            raise interrupt("simulated interruption")
        return real_write_array(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_half_then_fail)
    bigger = {**arrays, "W1": np.zeros((40, 30))}
    expected = ModelFileError if interrupt is OSError else interrupt
    with pytest.raises(expected, match="simulated interruption"):
        save_model_file(saved, {**header, "seed": 99}, bigger)
    assert len(calls) == 3
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no temporary left
    loaded_header, loaded = load_model_file(saved)
    assert loaded_header["seed"] == 0
    assert np.array_equal(loaded["W1"], arrays["W1"])


def test_interrupted_rename_keeps_previous_file(
    saved: Path, header: dict, monkeypatch: pytest.MonkeyPatch
):
    before = saved.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("npdeep.io.os.replace", fail)
    with pytest.raises(KeyboardInterrupt):
        save_model_file(saved, header, {"W1": np.ones(3)})
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


# ----------------------------------------------------------------------------------- refusals


def test_missing_file(tmp_path: Path):
    with pytest.raises(ModelFileError, match=r"model file '.*absent\.npdeep' does not exist"):
        load_model_file(tmp_path / "absent.npdeep")


def test_folder_given_as_model(tmp_path: Path):
    with pytest.raises(ModelFileError, match=r"model file '.*' is not a file"):
        load_model_file(tmp_path)


def test_csv_given_as_model(tmp_path: Path):
    path = tmp_path / "data.csv"
    path.write_text("x1,x2,y\n0.5,1.5,1\n0.1,0.2,0\n")
    with pytest.raises(
        ModelFileError, match=r"data\.csv': not an npdeep model file: it looks like a text file"
    ):
        load_model_file(path)


def test_empty_file_and_plain_npy_and_npz(tmp_path: Path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ModelFileError, match="not an npdeep model file: the file is empty"):
        load_model_file(tmp_path / "empty")
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match="single NumPy .npy array"):
        load_model_file(tmp_path / "a.npy")
    np.savez(tmp_path / "a.npz", W1=np.zeros(3))
    with pytest.raises(ModelFileError, match=r"no header.json \(it looks like a plain NumPy .npz"):
        load_model_file(tmp_path / "a.npz")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, -1])
def test_truncated_file(saved: Path, keep: float):
    data = saved.read_bytes()
    cut = len(data) - 1 if keep == -1 else int(len(data) * keep)
    saved.write_bytes(data[:cut])
    with pytest.raises(ModelFileError, match=r"model\.npdeep'.* truncated or corrupt"):
        load_model_file(saved)


def test_corrupt_array_bytes_fail_the_zip_crc(saved: Path):
    data = bytearray(saved.read_bytes())
    offset = data.index(_npy_bytes(np.zeros(0))[:6]) + 200  # inside the first array's data
    data[offset] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model_file(saved)


def test_corrupt_deflated_member(tmp_path: Path, header: dict, arrays: dict):
    path = save_model_file(tmp_path / "m.npdeep", header, arrays, compress=True)
    data = bytearray(path.read_bytes())
    offset = data.index(b"W1.npy") + len("W1.npy") + 40  # inside W1's deflate stream
    for i in range(offset, offset + 8):
        data[i] ^= 0x55
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.npdeep'.* (truncated or )?corrupt"):
        load_model_file(path)


def test_corrupt_array_bytes_fail_the_checksum(tmp_path: Path):
    """Bytes changed *with* a valid zip CRC (rewritten archive): the SHA-256 catches it."""
    good = _npy_bytes(np.arange(6.0).reshape(2, 3))
    bad = bytearray(good)
    bad[-1] ^= 0x01
    path = _craft(
        tmp_path / "m.npdeep",
        _base_header({"W1": _entry(good, "<f8", [2, 3])}),
        {"W1.npy": bytes(bad)},
    )
    with pytest.raises(ModelFileError, match=r"array 'W1' fails its SHA-256 checksum; .*corrupt"):
        load_model_file(path)


def test_future_format_version(tmp_path: Path):
    header = _base_header({})
    header["format_version"] = FORMAT_VERSION + 1
    path = _craft(tmp_path / "m.npdeep", header, {})
    with pytest.raises(
        ModelFileError,
        match=rf"format version {FORMAT_VERSION + 1} is newer than this npdeep supports "
        rf"\({FORMAT_VERSION}\); upgrade npdeep",
    ):
        load_model_file(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "keras"}, r"not an npdeep model file \(header format is 'keras'"),
        ({"format_version": "1"}, "unknown model file format version '1'"),
        ({"format_version": 0}, "unknown model file format version 0"),
        ({"arrays": []}, "header 'arrays' must be an object"),
    ],
)
def test_bad_header_fields(tmp_path: Path, change: dict, message: str):
    path = _craft(tmp_path / "m.npdeep", {**_base_header({}), **change}, {})
    with pytest.raises(ModelFileError, match=message):
        load_model_file(path)


def test_header_not_json_or_too_big(tmp_path: Path, saved: Path):
    path = tmp_path / "bad.npdeep"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.json", "{not json")
    with pytest.raises(ModelFileError, match="header.json is not valid JSON"):
        load_model_file(path)
    with pytest.raises(ModelFileError, match=r"header.json is \d+ bytes, over max_header_bytes=10"):
        load_model_file(saved, max_header_bytes=10)


def test_duplicate_header_keys(tmp_path: Path):
    path = tmp_path / "m.npdeep"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.json", '{"format": "npdeep", "format": "npdeep"}')
    with pytest.raises(ModelFileError, match=r"repeats the keys \['format'\]"):
        load_model_file(path)


def test_missing_and_extra_members(tmp_path: Path):
    W = _npy_bytes(np.zeros((2, 2)))
    manifest = {"W1": _entry(W, "<f8", [2, 2]), "b1": _entry(W, "<f8", [2, 2])}
    path = _craft(tmp_path / "m.npdeep", _base_header(manifest), {"W1.npy": W, "run.py": b"x"})
    with pytest.raises(ModelFileError, match=r"missing \['b1.npy'\]; unexpected \['run.py'\]"):
        load_model_file(path)


def test_repeated_members(tmp_path: Path):
    W = _npy_bytes(np.zeros((2, 2)))
    path = _craft(tmp_path / "m.npdeep", _base_header({"W1": _entry(W, "<f8", [2, 2])}),
                  {"W1.npy": W})
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("W1.npy", W)  # a second member of the same name
    with pytest.raises(ModelFileError, match=r"the manifest \(repeated \['W1.npy'\]\)"):
        load_model_file(path)


def test_npy_shape_differs_from_manifest(tmp_path: Path):
    W = _npy_bytes(np.zeros((3, 2)))
    path = _craft(
        tmp_path / "m.npdeep", _base_header({"W1": _entry(W, "<f8", [2, 3])}), {"W1.npy": W}
    )
    with pytest.raises(
        ModelFileError, match=r"'W1' is <f8 \(3, 2\) in its .npy header but <f8 \(2, 3\)"
    ):
        load_model_file(path)


def test_shape_differs_from_architecture(saved: Path, arrays: dict):
    expected = {name: array.shape for name, array in arrays.items()}
    load_model_file(saved, expected_shapes=expected)  # matching architecture loads
    with pytest.raises(
        ModelFileError, match=r"array 'W1' has shape \(4, 3\) but the architecture expects \(3, 4\)"
    ):
        load_model_file(saved, expected_shapes={**expected, "W1": (3, 4)})
    extra = {**expected, "W3": (1, 2)}
    del extra["b1"]
    with pytest.raises(ModelFileError, match=r"missing \['W3'\], unexpected \['b1'\]"):
        load_model_file(saved, expected_shapes=extra)


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("declared_dtype", ["|O", "<f8"])
def test_pickled_object_array_is_refused_and_never_run(tmp_path: Path, declared_dtype: str):
    marker = tmp_path / "pwned"
    evil = _npy_bytes(np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    # the payload is live: unpickling it the unsafe way would create the marker
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(probe)))
    assert probe.exists()
    path = _craft(
        tmp_path / "m.npdeep",
        _base_header({"W1": _entry(evil, declared_dtype, [1])}),
        {"W1.npy": evil},
    )
    with pytest.raises(ModelFileError, match=r"array 'W1' has dtype object; .* never objects"):
        load_model_file(path)
    assert not marker.exists()


def test_structured_dtype_is_refused(tmp_path: Path):
    data = _npy_bytes(np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]))
    path = _craft(
        tmp_path / "m.npdeep", _base_header({"W1": _entry(data, "<f8", [2])}), {"W1.npy": data}
    )
    with pytest.raises(ModelFileError, match=r"array 'W1' has dtype .* only numeric dtypes"):
        load_model_file(path)


def _huge_npy_header(shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + b"\x00" * 64  # a few bytes of "data"


@pytest.mark.parametrize(
    ("manifest_shape", "max_elements", "message"),
    [
        # the manifest claims 10^12 elements: refused from the header alone
        ([10**6, 10**6], None, r"more than max_elements=\d+ elements .* \(1000000, 1000000\)"),
        # caps lifted: the .npy header and the member size still refuse it before allocating
        ([10**6, 10**6], 10**13, r"declares 8000000000000 data bytes but its member holds 64"),
        # the manifest lies small, the .npy header claims 10^12
        ([8], None, r"\(1000000, 1000000\) in its .npy header but <f8 \(8,\) in the manifest"),
    ],
)
def test_huge_declared_array_is_refused_without_allocating(
    tmp_path: Path, manifest_shape: list, max_elements: int | None, message: str
):
    data = _huge_npy_header((10**6, 10**6))
    path = _craft(
        tmp_path / "m.npdeep",
        _base_header({"W1": _entry(data, "<f8", manifest_shape)}),
        {"W1.npy": data},
    )
    limits = {} if max_elements is None else {"max_elements": max_elements}
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=message):
            load_model_file(path, **limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20


def test_tracemalloc_sees_numpy_allocations():
    """The peak-memory assertions above are meaningful: numpy reports its buffers."""
    tracemalloc.start()
    try:
        block = np.empty(2**20)
        block.fill(0.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= 8 * 2**20


def test_total_elements_are_capped(saved: Path):
    with pytest.raises(ModelFileError, match=r"more than max_elements=10 elements in total"):
        load_model_file(saved, max_elements=10)


# ------------------------------------------------------------------------- paths and targets


def test_file_objects_are_refused_with_a_clear_error(saved: Path, header: dict, arrays: dict):
    why = r"file objects such as io.BytesIO are not supported: .*atomically"
    with pytest.raises(TypeError, match=r"cannot save model file: path must be a str .*" + why):
        save_model_file(io.BytesIO(), header, arrays)
    with pytest.raises(TypeError, match=r"cannot load model file: path must be a str .*" + why):
        load_model_file(io.BytesIO(saved.read_bytes()))
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike naming a file, "
                                        r"got NoneType$"):
        load_model_file(None)
    with pytest.raises(ModelFileError, match="cannot save model file: the path is empty"):
        save_model_file("", header, arrays)


def test_tilde_and_bytes_paths(tmp_path: Path, monkeypatch, header: dict, arrays: dict):
    monkeypatch.setenv("HOME", str(tmp_path))
    save_model_file("~/m.npdeep", header, arrays)
    assert (tmp_path / "m.npdeep").is_file() and not Path("~").exists()
    assert load_model_file("~/m.npdeep")[0]["seed"] == 0
    assert load_model_file(os.fsencode(tmp_path / "m.npdeep"))[0]["seed"] == 0


def test_save_through_a_symlink_replaces_its_target(saved: Path, header: dict):
    link = saved.with_name("latest.npdeep")
    link.symlink_to(saved)
    save_model_file(link, header, {"W1": np.full((1, 1), 5.0)})
    assert link.is_symlink() and link.resolve() == saved.resolve()
    assert load_model_file(saved)[1]["W1"][0, 0] == 5.0
    assert sorted(os.listdir(saved.parent)) == ["latest.npdeep", "model.npdeep"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_save_never_replaces_a_pipe_or_device(tmp_path: Path, header: dict, arrays: dict):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match=r"'.*pipe': it is not a regular file \(a device, "
                                             r"pipe or socket\)"):
        save_model_file(fifo, header, arrays)
    assert not fifo.is_file() and fifo.exists()
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_long_file_name_leaves_room_for_the_temporary_file(tmp_path: Path, header: dict,
                                                             arrays: dict):
    path = tmp_path / ("m" * 240 + ".npdeep")  # 248 characters: the filesystem takes 255
    save_model_file(path, header, arrays)
    assert os.listdir(tmp_path) == [path.name]
    assert load_model_file(path)[0]["seed"] == 0


def test_a_long_non_ascii_file_name_leaves_room_for_the_temporary_file(
        tmp_path: Path, header: dict, arrays: dict):
    # before: the temporary name kept 100 *characters*, 300 bytes of Chinese: "File name too
    # long" for a 244-byte name that open() takes
    path = tmp_path / ("\u6a21" * 80 + ".npz")  # 244 bytes in UTF-8
    save_model_file(path, header, arrays)
    assert os.listdir(tmp_path) == [path.name]
    assert load_model_file(path)[0]["seed"] == 0
    from npdeep.atomic import _short_stem

    assert _short_stem("\u6a21" * 80) == "\u6a21" * 66  # 198 bytes, cut between characters
    assert _short_stem("ab") == "ab"


def test_deeply_nested_header_is_refused(tmp_path: Path, header: dict, arrays: dict):
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ModelFileError, match="header nests lists and dicts more than 64 levels"):
        save_model_file(tmp_path / "m.npdeep", {"notes": deep}, arrays)
    assert os.listdir(tmp_path) == []
    path = _craft(tmp_path / "m.npdeep", {**_base_header({}), "notes": deep}, {})
    with pytest.raises(ModelFileError, match="header.json nests lists and objects more than 64"):
        load_model_file(path)
    shallow = _craft(tmp_path / "ok.npdeep", {**_base_header({}), "notes": [[[["x"]]]]}, {})
    assert load_model_file(shallow)[0]["notes"] == [[[["x"]]]]


# ---------------------------------------------------------------- permissions of saved files
@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path, header, arrays, umask_022):
    path = save_model_file(tmp_path / "new.npdeep", header, arrays)
    assert _mode(path) == 0o644  # 0o666 & ~0o022, as open() makes it


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o755], ids=lambda m: f"{m:04o}")
def test_saving_over_a_file_keeps_its_permission_bits(tmp_path, header, arrays, mode, umask_022):
    path = tmp_path / "m.npdeep"
    path.write_bytes(b"old")
    path.chmod(mode)
    save_model_file(path, header, arrays)
    assert _mode(path) == mode
    assert load_model_file(path)[0]["seed"] == header["seed"]


def test_a_read_only_file_is_replaced_only_by_who_may_write_it(tmp_path, header, arrays):
    path = tmp_path / "m.npdeep"
    path.write_bytes(b"old")
    path.chmod(0o444)
    if os.access(path, os.W_OK):  # root: as `cp` and open() do, write it, and keep 0444
        save_model_file(path, header, arrays)
        assert _mode(path) == 0o444
        assert load_model_file(path)[0]["seed"] == header["seed"]
    else:
        with pytest.raises(ModelFileError, match=r"read-only \(mode 0444\)"):
            save_model_file(path, header, arrays)
        assert path.read_bytes() == b"old"


def test_a_file_the_user_may_not_write_is_refused_and_left_unchanged(
        tmp_path, header, arrays, monkeypatch):
    import npdeep.atomic

    path = tmp_path / "m.npdeep"
    path.write_bytes(b"old")
    path.chmod(0o444)
    monkeypatch.setattr(npdeep.atomic, "_may_write", lambda p: False)  # as for a non-root user
    with pytest.raises(ModelFileError, match=r"cannot save model file '.*m\.npdeep': the file "
                       r"is read-only \(mode 0444\) and is left unchanged; make it writable"):
        save_model_file(path, header, arrays)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npdeep"]  # no temporary left


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another user")
def test_root_saving_over_a_users_file_leaves_it_theirs(tmp_path, header, arrays):
    path = tmp_path / "m.npdeep"
    path.write_bytes(b"old")
    os.chown(path, 12345, 23456)
    save_model_file(path, header, arrays)
    assert (path.stat().st_uid, path.stat().st_gid) == (12345, 23456)
