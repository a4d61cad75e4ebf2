"""CSV messages that name the real cause: encodings and byte-order marks, the delimiter at
the end of a line, Excel's ``sep=`` line, decimal commas, target ranges."""

import codecs
import re

import pytest

from npdeep.data import csv_dialect, load
from npdeep.data.csv import read_header
from npdeep.errors import DataError

TEXT = "id;x;y\n0;1,5;0\n1;2,5;1\n2;3,5;0\n3;4,5;1\n"


def write(folder, name, data: bytes):
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding,data", [
    ("utf-16", TEXT.encode("utf-16-le")),  # UTF-16 without a byte-order mark
    ("utf-16", TEXT.encode("latin-1")),  # not UTF-16 at all
    ("UTF16", TEXT.encode("utf-16-be")),
])
def test_utf_16_without_a_byte_order_mark_names_the_file_and_the_byte_order(
        tmp_path, encoding, data):
    path = write(tmp_path, "nobom.csv", data)
    message = re.escape(f"{path}: not utf-16 text (UTF-16 stream does not start with BOM): a "
                        "file without a byte-order mark needs its byte order, "
                        "encoding='utf-16-le' or 'utf-16-be' (--encoding utf-16-le or utf-16-be)")
    with pytest.raises(DataError, match=message):
        load(path, delimiter=";", decimal=",", encoding=encoding)
    with pytest.raises(DataError, match=message):
        read_header(path, csv_dialect(";", ",", encoding))


def test_utf_16_without_a_byte_order_mark_reads_with_its_byte_order(tmp_path):
    path = write(tmp_path, "le.csv", TEXT.encode("utf-16-le"))
    assert load(path, delimiter=";", decimal=",", encoding="utf-16-le").X[:, 1].tolist() == [
        1.5, 2.5, 3.5, 4.5]


@pytest.mark.parametrize("bom,encoding,name", [
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
])
def test_a_byte_order_mark_read_as_utf_8_names_the_encoding(tmp_path, bom, encoding, name):
    path = write(tmp_path, "bom.csv", bom + TEXT.encode(encoding))
    advice = (f"(it starts with {name.upper()}'s byte-order mark): give its encoding "
              f"(encoding='{name}', --encoding {name}), or save it as UTF-8")
    message = re.escape(f"{path}: line 1: not a UTF-8 text file {advice}")
    with pytest.raises(DataError, match=message):
        load(path, delimiter=";", decimal=",")
    with pytest.raises(DataError, match=re.escape(
            f"{path}: line 1: holds a NUL character: the file is {name.upper()} text {advice}")):
        load(path, delimiter=";", decimal=",", encoding="cp1252")  # ÿþ, then NULs
    assert load(path, delimiter=";", decimal=",", encoding=name).feature_names == ["id", "x"]


def test_a_nul_without_a_byte_order_mark_suggests_utf_16_le(tmp_path):
    path = write(tmp_path, "le.csv", TEXT.encode("utf-16-le"))
    with pytest.raises(DataError, match=re.escape(
            "line 1: holds a NUL character, which no CSV text holds: is the file UTF-16 (save "
            "it as UTF-8, or give its encoding: --encoding utf-16-le)")):
        load(path, delimiter=";", decimal=",")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-8"])
def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path, encoding):
    path = write(tmp_path, "bom.csv", ("\ufeff" + TEXT).encode(encoding))
    dialect = csv_dialect(";", ",", encoding)
    assert read_header(path, dialect)[0] == "id"
    assert load(path, "y", delimiter=";", decimal=",", encoding=encoding).feature_names == [
        "id", "x"]
    no_header = write(tmp_path, "nh.csv", ("\ufeff" + TEXT.split("\n", 1)[1]).encode("utf-16-le"))
    ds = load(no_header, delimiter=";", decimal=",", encoding="utf-16-le", header=False)
    assert ds.X[0].tolist() == [0.0, 1.5]


@pytest.mark.parametrize("delimiter,word", [(";", "semicolon"), (",", "comma"),
                                            ("\t", "tab"), ("|", "pipe")])
def test_a_delimiter_at_the_end_of_the_header_is_named(tmp_path, delimiter, word):
    text = TEXT.replace(";", delimiter).replace("1,5", "1").replace("2,5", "2") \
        .replace("3,5", "3").replace("4,5", "4")
    path = write(tmp_path, "t.txt", text.replace("\n", delimiter + "\n", 1).encode())
    with pytest.raises(DataError, match=re.escape(
            f"{path}: line 1: header column 3 has no name (a {word} at the end of the line?)")):
        load(path, delimiter=delimiter)


@pytest.mark.parametrize("delimiter", [None, ";"])
def test_excels_sep_line_is_named(tmp_path, delimiter):
    path = write(tmp_path, "sep.csv", ("sep=;\r\n" + TEXT).encode())
    message = re.escape(f"{path}: line 1 is 'sep=;', the line Excel writes to name the "
                        "delimiter (semicolons), not a header: delete that line, and read the "
                        "file with delimiter=';' (--delimiter ';')")
    with pytest.raises(DataError, match=message):
        load(path, delimiter=delimiter, decimal="," if delimiter else ".")
    with pytest.raises(DataError, match=message):
        read_header(path, csv_dialect(delimiter, header=False))


def _column(folder, cells, name="c.csv"):
    path = folder / name
    path.write_text("a,y\n" + "".join(f'"{c}",{i % 2}\n' for i, c in enumerate(cells)))
    return path


@pytest.mark.parametrize("categorical", ["reject", "onehot"])
def test_three_decimals_after_a_zero_are_a_decimal_comma_not_thousands(tmp_path, categorical):
    path = _column(tmp_path, ["-0,803", "0,243", "-1,656", "1,143", "+0,430", "0,251"])
    with pytest.raises(DataError, match=re.escape(
            f"{path}: column 'a' holds numbers written with a decimal comma (e.g. '-0,803' on "
            "line 2); write them with a decimal point, or read the file with decimal=',' "
            "(--decimal ,)")):
        load(path, categorical=categorical)


def test_ambiguous_groups_mention_the_decimal_comma(tmp_path):
    path = _column(tmp_path, ["1,234", "12,345", "2,000"])
    with pytest.raises(DataError, match=re.escape(
            "column 'a' holds numbers with thousands separators (e.g. '1,234' on line 2)? remove "
            "them (a CSV number is written 1234 or 1234.5); or, for a decimal comma, read the "
            "file with decimal=',' (--decimal ,)")):
        load(path)
    grouped = _column(tmp_path, ["1,234,567", "12,345", "2,000"], "g.csv")
    with pytest.raises(DataError, match=r"\(a CSV number is written 1234 or 1234\.5\)$"):
        load(grouped)  # 1,234,567 has no decimal comma


def test_a_decimal_comma_target_cell_after_a_zero(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,y\n1,0.5\n2,1.5\n3,\"0,125\"\n")
    with pytest.raises(DataError, match=re.escape(
            "line 4, column 'y': '0,125' is not a number (this column is numeric; a decimal "
            "comma? write a decimal point)")):
        load(path, "y", task="regression")
