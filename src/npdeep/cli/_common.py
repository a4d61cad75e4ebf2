"""Pieces every command shares: JSON output, output paths, atomic writes, model files.

Exit codes (see :func:`npdeep.cli.run`): 0 success; 1 the command ran but the data, the
model file or the file system refused (any :class:`npdeep.errors.NpdeepError`, printed as
``Error: message``, no traceback); 2 a usage error (unknown option, bad option value,
unknown key in a config file).

The pieces live in the modules below, and every name this module held before they moved out
stays importable from here: ``--json`` and the option types in :mod:`._options`, what
commands print in :mod:`._output`, output paths and atomic writes in :mod:`._paths`, DATA
from standard input or a pipe in :mod:`._data_source`, model files in :mod:`._model_file`
and the checks of their header in :mod:`._model_header`.
"""

from __future__ import annotations

import os  # noqa: F401  (npdeep.cli._common.os: tests patch os.access through it)

from ._data_source import (  # noqa: F401
    STDIN,
    STDIN_NAME,
    _copied,
    _is_stream,
    data_name,
    data_source,
)
from ._model_file import (  # noqa: F401
    Model,
    _data_kind,
    _looks_like_text,
    _npz_holds,
    load_model,
    model_from_file,
    read_model_file,
)
from ._model_header import _check_header, _check_labels, _label_kind, label_array  # noqa: F401
from ._options import (  # noqa: F401
    JSON_META,
    SEED,
    FiniteFloatRange,
    _remember_json,
    json_option,
)
from ._output import emit, fmt, jsonable  # noqa: F401
from ._paths import (  # noqa: F401
    _NOT_A_MODEL,
    _NOT_A_TABLE,
    _may_write,
    _same_file,
    atomic_write_text,
    check_not_input,
    check_output_path,
    check_output_suffix,
)
