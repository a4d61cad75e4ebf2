"""Tampering with model files in tests: rewrite a file's header, arrays untouched."""

import json
import zipfile


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
