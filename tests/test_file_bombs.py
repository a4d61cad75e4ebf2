"""Arrays a model file's header does not imply are refused before any array data is read:
a small file that declares a large extra array (a zip bomb within max_elements) is refused by
name without inflating it, whichever kind of file carries it."""

import hashlib
import json
import re
import tracemalloc
import zipfile

import numpy as np
import pytest
from file_helpers import edit_header, valid_files

import npdeep
import npdeep._io_load
from npdeep.checkpoint import load_checkpoint, resume
from npdeep.errors import ModelFileError
from npdeep.estimators.files import load_estimator, load_pipeline

X = np.random.default_rng(0).normal(size=(40, 3))
BOMB = 2**23  # float64 elements declared: 64 MiB, deflated to about 70 KB
MiB = 2**20


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One valid file of each kind: network, estimator, pipeline, checkpoint."""
    return valid_files(tmp_path_factory.mktemp("valid"), X)


def _npy_header(shape, dtype="<f8") -> bytes:
    head = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    pad = 64 - (10 + len(head) + 1) % 64
    return b"\x93NUMPY\x01\x00" + (len(head) + pad + 1).to_bytes(2, "little") + \
        head.encode() + b" " * pad + b"\n"


def _with_bomb(src, dst, name, shape=(BOMB,)):
    """Copy ``src`` to ``dst`` with a deflated array ``name`` of zeros (added, or in place of
    the one there), declared in the manifest with its true shape and checksum: a valid
    container, small on disk."""
    head, chunk = _npy_header(shape), bytes(16 * MiB)
    digest = hashlib.sha256(head)
    nbytes = int(np.prod(shape)) * 8
    with zipfile.ZipFile(src) as zin, \
            zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        with zout.open(f"{name}.npy", "w", force_zip64=True) as out:
            out.write(head)
            for start in range(0, nbytes, len(chunk)):
                piece = chunk[:min(len(chunk), nbytes - start)]
                out.write(piece)
                digest.update(piece)
        for member in zin.namelist():
            if member == f"{name}.npy":
                continue
            raw = zin.read(member)
            if member == "header.json":
                header = json.loads(raw)
                header["arrays"][name] = {"dtype": "<f8", "shape": list(shape),
                                          "sha256": digest.hexdigest()}
                raw = json.dumps(header).encode()
            zout.writestr(member, raw)
    return dst


def _peak_while(load, path) -> tuple[int, str]:
    """Return the peak bytes Python and NumPy allocated while ``load(path)`` raised, and the
    error's message."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            load(path)
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind, name, loads, message", [
    ("net", "extra", [npdeep.load, npdeep.Network.load, npdeep.load_trained, load_checkpoint],
     r"arrays \['W1', 'W2', 'b1', 'b2', 'extra'\] do not match the architecture \[3, 4, 1\] "
     r"\(expected \['W1', 'W2', 'b1', 'b2'\]\)"),
    ("est", "extra", [npdeep.load, load_estimator],
     r"arrays \['W1', 'W2', 'b1', 'b2', 'extra'\] do not match the architecture"),
    ("pipe", "0.extra", [npdeep.load, load_pipeline],
     r"step 0 StandardScaler has no arrays \['extra'\]; it holds mean_, scale_ and var_"),
    ("pipe", "1.W9", [npdeep.load],
     r"arrays \['W1', 'W2', 'W9', 'b1', 'b2'\] do not match the architecture"),
    ("ck", "optimizer.m.W9", [npdeep.load, load_checkpoint],
     r"arrays \['optimizer.m.W9'\] are not state of the adam optimizer"),
])
def test_a_large_array_the_header_does_not_imply_is_refused_before_inflating_it(
        tmp_path, files, kind, name, loads, message):
    # before: the 64 MiB array was inflated (one of a GiB: 8 s, 1.1 GB of memory) and only then
    # refused by the architecture check
    path = _with_bomb(files[kind], tmp_path / "bomb.npz", name)
    assert path.stat().st_size < 2 * MiB
    with zipfile.ZipFile(path) as archive:  # 64 MiB declared
        assert archive.getinfo(f"{name}.npy").file_size == BOMB * 8 + 128
    for load in loads:
        peak, text = _peak_while(load, path)
        assert "bomb.npz" in text and re.search(message, text), text
        assert peak < 4 * MiB, (load, peak)  # the array's 64 MiB were never allocated


def test_a_wrong_shape_for_an_implied_array_is_refused_before_inflating(tmp_path, files):
    bad = _with_bomb(files["ck"], tmp_path / "ck.npz", "optimizer.m.W1", (BOMB // 3, 3))
    peak, text = _peak_while(load_checkpoint, bad)
    assert "ck.npz': invalid training state in the checkpoint: optimizer state " \
        "'optimizer.m.W1' has shape (2796202, 3), the parameter needs (4, 3)" in text
    assert peak < 4 * MiB


def test_resume_refuses_the_bomb_before_reading(tmp_path, files):
    path = _with_bomb(files["ck"], tmp_path / "ck.npz", "optimizer.q.W1", (4, 3))
    with pytest.raises(ModelFileError, match=r"ck.npz'?: arrays \['optimizer.q.W1'\] are not "
                       r"state of the adam optimizer"):
        resume(path, X.T, (X[:, 0] > 0)[None], epochs=3)


def test_every_npy_header_and_size_is_checked_before_any_array_is_read(tmp_path, files,
                                                                        monkeypatch):
    # the last member's zip entry declares 64 MiB of data after its (1, 1) .npy header
    dst = tmp_path / "big.npz"
    with zipfile.ZipFile(files["net"]) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED,
                                                      compresslevel=1) as zout:
        for member in zin.namelist():
            raw = zin.read(member)
            if member == "b2.npy":
                with zout.open(member, "w", force_zip64=True) as out:
                    out.write(raw)
                    for _ in range(4):
                        out.write(bytes(16 * MiB))
            else:
                zout.writestr(member, raw)
    read = []
    monkeypatch.setattr(npdeep._io_load, "_read_array", lambda *a: read.append(a[1]))
    with pytest.raises(ModelFileError, match=r"array 'b2' declares 8 data bytes but its "
                       r"member holds 67108872; the file is corrupt"):
        npdeep.load(dst)
    assert read == []  # W1, b1, W2 were not read either


def test_a_complex_parameter_is_refused_before_reading(tmp_path, files):
    def complex_w1(header):
        header["arrays"]["W1"]["dtype"] = "<c16"

    edit_header(files["est"], tmp_path / "c.npz", complex_w1)
    with pytest.raises(ModelFileError, match=r"c.npz'?: parameter 'W1' must hold real numbers, "
                       r"got complex128"):
        npdeep.load(tmp_path / "c.npz")


@pytest.mark.parametrize("kind", ["net", "est", "pipe", "ck"])
def test_every_kind_still_loads_and_checks_pass_on_valid_files(files, kind):
    assert npdeep.load(files[kind]) is not None
    if kind == "ck":
        assert load_checkpoint(files[kind]).epoch == 2
