"""Model files: numeric arrays plus a JSON header in one zip, written atomically, loaded safely.

Format (``format_version`` 1)
-----------------------------
A model file is an ordinary zip archive (members stored or deflated, never encrypted) holding

* ``<name>.npy``, one per array, in NumPy's own ``.npy`` format (version 1.0 or 2.0), written
  with ``allow_pickle=False``; dtypes are numeric only (bool, signed and unsigned integers,
  floats, complex), C order on write;
* ``header.json``, a UTF-8 JSON object (strict JSON: no ``NaN`` or ``Infinity``) holding the
  caller's keys (architecture, training configuration, history, seed...) plus four keys that
  :func:`save_model_file` adds and reserves::

      "format": "npdeep",
      "format_version": 1,
      "npdeep_version": "0.1.0",
      "arrays": {"W1": {"dtype": "<f8", "shape": [4, 3], "sha256": "9f86d0..."}, ...}

  ``dtype`` is the ``.npy`` descriptor string, ``shape`` a list of integers and ``sha256`` the
  hex digest of the whole ``<name>.npy`` member (its ``.npy`` header and data bytes).

Nothing else may be in the archive. Array names use letters, digits, ``_``, ``-`` and ``.``.
Files are byte-for-byte reproducible: same header and arrays, same bytes.

Writing is atomic: the archive is written to a temporary file in the destination folder,
flushed and fsynced, then renamed over the destination with :func:`os.replace`
(:func:`npdeep.atomic.write_atomically`). If anything
fails or is interrupted (``KeyboardInterrupt`` included) the temporary file is removed and a
file already at the destination is left untouched. A destination that is a symbolic link is
followed (the file it points to is replaced, the link stays); one that is a device, pipe or
socket is refused. A file replaced keeps its permission bits; a read-only one (that the user
may not write) is refused and left unchanged; a new file gets ``0o666 & ~umask``. Paths are
``str`` or ``os.PathLike`` (a leading ``~`` is expanded); file objects are refused, since an
atomic write needs a path to rename onto.

Loading never unpickles, never evaluates and never imports anything named in the file. Before
reading any array data it checks, in order: the file is a complete zip archive; ``header.json``
exists, is below ``max_header_bytes``, is valid JSON and nests at most ``MAX_HEADER_DEPTH``
(64) levels; ``format`` is ``"npdeep"`` and ``format_version`` is one this npdeep knows; the
manifest is well formed, declares at most ``MAX_ARRAYS`` (10,000) arrays of numeric dtypes,
and its total element count is at most ``max_elements`` and its bytes at most
``8 * max_elements`` (as many float64: a wider dtype counts for more); the archive
holds exactly the manifest's members; the shapes match ``expected_shapes`` when given, and
``check_arrays(header, declared, where)`` accepts the declared arrays when given (npdeep's own
loaders pass :func:`npdeep._file_arrays.check_declared_arrays`: exactly the arrays the
header's kind and architecture imply, by name, shape and real dtype). For every array it then
parses the ``.npy`` header alone (only the member's first bytes are inflated), refuses object,
structured and other non-numeric dtypes, and checks dtype and shape against the manifest and
the member's uncompressed size, as the zip declares it, against ``shape * itemsize +
header``. Only once every member has passed does it allocate each array and read its bytes,
verifying the SHA-256 digest (and the zip CRC).
Every failure raises :class:`~npdeep.errors.ModelFileError` naming the file.
"""

from __future__ import annotations

import os  # noqa: F401  (npdeep.io.os: tests patch os.replace and os.fsync through it)
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

# the format's constants, the writer and the reader live in _io_format, _io_save and _io_load;
# every name this module held before they moved out stays importable from here
from npdeep._io_format import (  # noqa: F401
    _NAME,
    _SHA256,
    _ZIP_DATE,
    BYTES_PER_ELEMENT,
    CHUNK_BYTES,
    DEFAULT_MAX_ELEMENTS,
    DEFAULT_MAX_HEADER_BYTES,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_MEMBER,
    MAX_ARRAYS,
    MAX_HEADER_DEPTH,
    MAX_NDIM,
    NPY_MAX_HEADER_SIZE,
    NUMERIC_KINDS,
    RESERVED_KEYS,
    _nesting_depth,
)
from npdeep._io_load import (  # noqa: F401
    _check_expected,
    _HashingReader,
    _is_utf8,
    _load,
    _not_a_zip_message,
    _parse_header,
    _parse_manifest,
    _read_array,
    load_model_file,
)
from npdeep._io_save import (  # noqa: F401
    _check_arrays,
    _HashingWriter,
    _header_bytes,
    _npdeep_version,
    _write_archive,
    _zip_info,
    save_model_file,
)
from npdeep.errors import ModelFileError, NpdeepError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "DEFAULT_MAX_ELEMENTS",
    "DEFAULT_MAX_HEADER_BYTES",
    "save_model_file",
    "load_model_file",
    "header_errors",
    "merged_header",
]


#: Keyword names that read as options of a save, not header metadata: passed to
#: ``npdeep.save(obj, path, **extra)`` they are refused rather than written into the header.
OPTION_LIKE_KEYS = ("compressed", "compression", "overwrite", "max_elements", "allow_pickle",
                    "deflate")  # ("mode", "dtype", "zip" are also metadata words: kept)


def merged_header(header: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``header`` plus a caller's ``extra`` keys; a key the saver writes is refused.

    (An extra ``kind`` or ``architecture`` would otherwise replace npdeep's own and leave a
    file that cannot be loaded.) So is a key that reads as an option of the save
    (:data:`OPTION_LIKE_KEYS`, or a misspelling of ``compress``): it would silently become
    header metadata and change nothing.
    """
    import difflib

    options = sorted(k for k in extra if k in OPTION_LIKE_KEYS
                     or difflib.get_close_matches(k.lower(), ["compress"], cutoff=0.85))
    if options:
        raise ModelFileError(
            f"extra header keys {options} look like options of the save, which takes only "
            "compress=True|False; other keywords are written into the file's header as "
            "metadata (e.g. note='...'), so they would change nothing; to store such a key, "
            "nest it: meta={'" + options[0] + "': ...}")
    clash = sorted(set(header) & set(extra))
    if clash:
        raise ModelFileError(f"extra header keys {clash} are written by npdeep itself; "
                             "choose other names")
    return {**header, **extra}


@contextmanager
def header_errors(where: str, what: str):
    """Turn what a malformed header makes Python raise into a ModelFileError naming the file.

    The header is untrusted input: a value of the wrong type or a missing key surfaces as a
    KeyError, TypeError, AttributeError... while the model is rebuilt from it (a
    RecursionError: JSON text inside it, such as a checkpoint's ``rng_state``, nested too
    deeply).
    """
    try:
        yield
    except ModelFileError:
        raise
    except (NpdeepError, KeyError, TypeError, ValueError, AttributeError, IndexError,
            OverflowError, RecursionError) as exc:
        detail = (f"missing key {exc}" if type(exc) is KeyError else
                  "it nests too deeply" if isinstance(exc, RecursionError) else str(exc))
        raise ModelFileError(f"{where}: invalid {what}: {detail}") from None

