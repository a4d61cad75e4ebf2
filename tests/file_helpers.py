"""Tampering with model files in tests: rewrite a file's header or arrays."""

import json
import zipfile

from npdeep.io import load_model_file, save_model_file


def edit_header(src, dst, edit):
    """Copy the model file ``src`` to ``dst``, passing its parsed header.json through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            raw = zin.read(name)
            if name == "header.json":
                header = json.loads(raw)
                edit(header)
                raw = json.dumps(header).encode()
            zout.writestr(name, raw)


def retouched(src, dst, edit):
    """Copy a model file, passing its header and arrays through ``edit`` (a valid container)."""
    header, arrays = load_model_file(src)
    header = {k: v for k, v in header.items()
              if k not in ("format", "format_version", "npdeep_version", "arrays")}
    edit(header, arrays)
    return save_model_file(dst, header, arrays)
