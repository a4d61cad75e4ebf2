"""How a CSV file is written: its delimiter, decimal sign, text encoding and header row.

The default reads what npdeep always read: a header row, commas (tabs in ``.tsv`` and
``.tab`` files), ``.`` decimals, UTF-8 (a byte-order mark skipped). :func:`csv_dialect` checks
the names a user gives (the API's keyword arguments, the command line's options) and returns
the :class:`CsvDialect` the readers take; a model file records it (:meth:`CsvDialect.to_config`)
so that ``predict`` reads a file of the same dialect without the options repeated.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from npdeep.errors import ConfigurationError

#: The decimal signs a numeric cell may use.
DECIMALS = (".", ",")
#: Spellings of a tab besides the character itself (a shell makes typing one awkward).
TAB_NAMES = ("tab", "\\t")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes", " ": "spaces"}
_NOT_DELIMITERS = {"\n": "a line break", "\r": "a line break", '"': "the quote character",
                   "\0": "a NUL character"}


def extension_delimiter(path: Path) -> str:
    """Tab for ``.tsv`` and ``.tab`` files (gzipped or not), comma otherwise."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]  # data.tsv.gz is a TSV
    return "\t" if suffixes and suffixes[-1] in (".tsv", ".tab") else ","


def delimiter_name(delimiter: str) -> str:
    """``'semicolons'``, ``'tabs'``...: how messages call the separator of the columns."""
    return _DELIMITER_NAMES.get(delimiter, f"{delimiter!r}")


def delimiter_word(delimiter: str) -> str:
    """``'semicolon'``, ``'tab'``...: one separator, as messages call it."""
    return delimiter_name(delimiter)[:-1] if delimiter in _DELIMITER_NAMES else repr(delimiter)


def shown(delimiter: str) -> str:
    """The delimiter as a user types it: ``tab`` for a tab, quoted otherwise (``';'``)."""
    return "tab" if delimiter == "\t" else repr(delimiter)


@dataclass(frozen=True)
class CsvDialect:
    """The dialect of a CSV file (built and checked by :func:`csv_dialect`).

    Attributes
    ----------
    delimiter : str or None
        The column separator; None: by the file's extension (tab for ``.tsv``, ``.tab``).
    decimal : {".", ","}
        The decimal sign of numeric cells.
    encoding : str
        Python's name of the text encoding (``"utf-8"``: a byte-order mark is skipped).
    header : bool
        Whether the first row names the columns; without one they are named ``"0"``, ``"1"``...
    """

    delimiter: str | None = None
    decimal: str = "."
    encoding: str = "utf-8"
    header: bool = True

    def delimiter_for(self, path: Path) -> str:
        """The delimiter of the file ``path``; ConfigurationError when it is the decimal sign."""
        delimiter = self.delimiter or extension_delimiter(path)
        if delimiter == self.decimal:
            how = "" if self.delimiter else " (the default for its extension)"
            raise ConfigurationError(
                f"{path}: decimal={self.decimal!r} cannot be read with the columns separated by "
                f"{delimiter_name(delimiter)}{how}: a cell such as 1{self.decimal}5 would be two "
                "columns; "
                "give another delimiter, e.g. delimiter=';' (--delimiter ';'), as Excel writes "
                "with a decimal comma"
            )
        return delimiter

    @property
    def is_default(self) -> bool:
        return self == CsvDialect()

    def to_config(self) -> dict[str, Any]:
        """``{"delimiter", "decimal", "encoding", "header"}``, JSON-serialisable."""
        return {"delimiter": self.delimiter, "decimal": self.decimal,
                "encoding": self.encoding, "header": self.header}

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> CsvDialect:
        """Rebuild (and check) a dialect from :meth:`to_config`'s dict; None: the default."""
        if config is None:
            return cls()
        if not isinstance(config, dict) or set(config) - {"delimiter", "decimal", "encoding",
                                                          "header"}:
            raise ConfigurationError(f"a CSV dialect must be a table of delimiter, decimal, "
                                     f"encoding and header, got {config!r:.200}")
        return csv_dialect(**config)


def _delimiter(delimiter: Any) -> str | None:
    if delimiter is None:
        return None
    if not isinstance(delimiter, str):
        raise ConfigurationError(f"delimiter must be one character, got {delimiter!r}")
    if delimiter.lower() in TAB_NAMES:
        return "\t"
    if len(delimiter) != 1:
        raise ConfigurationError(
            f"delimiter must be one character (or 'tab'), got {delimiter!r}"
            f"{' (a space: quote it)' if not delimiter else ''}"
        )
    if delimiter in _NOT_DELIMITERS:
        raise ConfigurationError(
            f"delimiter {delimiter!r} is {_NOT_DELIMITERS[delimiter]}, which cannot separate "
            "columns; give another character, such as ';' or '|'"
        )
    if re.fullmatch(r"[0-9+\-]", delimiter, re.ASCII):
        raise ConfigurationError(
            f"delimiter {delimiter!r} is part of how numbers are written; give another "
            "character, such as ';' or '|'"
        )
    return delimiter


def _encoding(encoding: Any) -> str:
    if not isinstance(encoding, str) or not encoding.strip():
        raise ConfigurationError(f"encoding must be the name of a text encoding (utf-8, "
                                 f"latin-1, cp1252...), got {encoding!r}")
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ConfigurationError(
            f"encoding {encoding!r} is not a text encoding Python knows; give one such as "
            "utf-8, latin-1, cp1252 or utf-16"
        ) from None
    if not getattr(info, "_is_text_encoding", True):  # base64, zlib: bytes to bytes
        raise ConfigurationError(f"encoding {encoding!r} is not a text encoding (it turns bytes "
                                 "into bytes); give one such as utf-8, latin-1 or cp1252")
    return info.name


def csv_dialect(delimiter: str | None = None, decimal: str = ".", encoding: str = "utf-8",
                header: bool = True) -> CsvDialect:
    """Check a CSV dialect's options and return it.

    Parameters
    ----------
    delimiter : str, optional
        One character (``";"``, ``"|"``; ``"tab"`` or ``"\\t"`` for a tab); default: by the
        file's extension, a tab for ``.tsv`` and ``.tab``, a comma otherwise.
    decimal : {".", ","}
        With ``","`` a cell ``1,5`` is 1.5 and a ``.`` in a numeric cell is an error (``1.234``
        may be a thousands grouping); it needs another delimiter than a comma.
    encoding : str
        Any text encoding Python knows (``"latin-1"``, ``"cp1252"``); default UTF-8.
    header : bool
        False: the first row is data, and the columns are named ``"0"``, ``"1"``, ...

    Raises
    ------
    ConfigurationError
        An option that is not one of these, naming it and the value received.

    Examples
    --------
    >>> csv_dialect(delimiter=";", decimal=",").to_config()
    {'delimiter': ';', 'decimal': ',', 'encoding': 'utf-8', 'header': True}
    """
    delimiter = _delimiter(delimiter)
    if decimal not in DECIMALS:
        raise ConfigurationError(f"decimal must be '.' or ',', got {decimal!r}")
    if delimiter is not None and delimiter == decimal:
        raise ConfigurationError(
            f"decimal={decimal!r} and delimiter={delimiter!r} are the same character: a cell "
            f"such as 1{decimal}5 would be two columns; give another delimiter, e.g. delimiter=';' "
            "(--delimiter ';'), as Excel writes with a decimal comma"
        )
    if not isinstance(header, bool):
        raise ConfigurationError(f"header must be True or False, got {header!r}")
    return CsvDialect(delimiter, decimal, _encoding(encoding), header)
