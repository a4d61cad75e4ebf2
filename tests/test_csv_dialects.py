"""CSV dialects in the data API: delimiter, decimal comma, encoding, files without a header."""

import codecs
import gzip
import re

import numpy as np
import pytest

from npdeep.data import (
    CsvDialect,
    FeatureEncoder,
    csv_dialect,
    iter_csv_chunks,
    load,
    load_features,
)
from npdeep.data.csv import read_header
from npdeep.errors import ConfigurationError, DataError


def write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


EXCEL = "a;b;y\n1,5;-2;0\n2,25;3,5e1;1\n-0,5;,5;0\n4;1,;1\n"  # Excel with a decimal comma


def test_semicolons_and_a_decimal_comma_read_as_written(tmp_path):
    ds = load(write(tmp_path, "excel.csv", EXCEL), delimiter=";", decimal=",")
    np.testing.assert_array_equal(ds.X, [[1.5, -2], [2.25, 35.0], [-0.5, 0.5], [4, 1]])
    assert ds.y.tolist() == [0, 1, 0, 1] and ds.feature_names == ["a", "b"]
    assert ds.task == "classification"


def test_a_decimal_comma_regression_target_and_prediction_data(tmp_path):
    path = write(tmp_path, "r.csv", "a;y\n" + "".join(f"{i},5;{i},25\n" for i in range(6)))
    ds = load(path, delimiter=";", decimal=",")
    np.testing.assert_array_equal(ds.y, np.arange(6) + 0.25)
    np.testing.assert_array_equal(ds.X[:, 0], np.arange(6) + 0.5)
    X = load_features(path, encoder_config=ds.encoder, delimiter=";", decimal=",").X
    np.testing.assert_array_equal(X, ds.X)
    chunks = list(iter_csv_chunks(path, 4, encoder_config=ds.encoder, delimiter=";",
                                  decimal=","))
    np.testing.assert_array_equal(np.vstack(chunks), ds.X)


@pytest.mark.parametrize("cell", ["1.234", "1.5", ".5", "2.0e3"])
def test_a_point_in_a_numeric_column_under_a_decimal_comma_names_file_line_and_column(
        tmp_path, cell):
    path = write(tmp_path, "p.csv", f"a;b;y\n1,5;2;0\n2;{cell};1\n3;4;0\n")
    message = (f"p.csv: line 3, column 'b': '{cell}' holds a '.', but the decimal sign is ',' "
               "(decimal=',', --decimal ,): is it a thousands separator or a decimal point?")
    with pytest.raises(DataError, match=re.escape(message)):
        load(path, delimiter=";", decimal=",")


def test_a_point_is_refused_in_the_target_and_in_prediction_data_too(tmp_path):
    path = write(tmp_path, "t.csv", "a;y\n1;1,5\n2;2.5\n3;3,5\n")
    with pytest.raises(DataError, match=r"t\.csv: line 3, column 'y': '2\.5' holds a '\.'"):
        load(path, delimiter=";", decimal=",")
    new = write(tmp_path, "new.csv", "a\n1,5\n2.5\n")
    encoder = FeatureEncoder.numeric(["a"])
    with pytest.raises(DataError, match=r"new\.csv: line 3, column 'a': '2\.5' holds a '\.'"):
        load_features(new, encoder_config=encoder, delimiter=";", decimal=",")
    with pytest.raises(DataError, match=r"new\.csv: line 3, column 'a': '2\.5' holds a '\.'"):
        list(iter_csv_chunks(new, 10, encoder_config=encoder, delimiter=";", decimal=","))


def test_under_a_decimal_comma_text_and_dropped_columns_keep_their_points(tmp_path):
    rows = "".join(f"v{i % 3}.x;{i}.{i};{i},5;{i % 2}\n" for i in range(8))
    path = write(tmp_path, "t.csv", "kind;id;a;y\n" + rows)
    ds = load(path, delimiter=";", decimal=",", categorical="onehot", drop=["id"])
    assert ds.feature_names[:3] == ["kind=v0.x", "kind=v1.x", "kind=v2.x"]
    np.testing.assert_array_equal(ds.X[:, -1], np.arange(8) + 0.5)


def test_integer_labels_under_a_decimal_comma_stay_exact(tmp_path):
    big = 2**53 + 1
    path = write(tmp_path, "l.csv", f"a;y\n1,5;{big}\n2,5;{big - 1}\n3,5;{big}\n")
    assert load(path, delimiter=";", decimal=",").classes.tolist() == [big - 1, big]


def test_a_header_of_decimal_comma_numbers_is_data(tmp_path):
    path = write(tmp_path, "h.csv", "1,5;2,5;0\n1,5;2;1\n")
    with pytest.raises(DataError, match=r"line 1 looks like data, not a header .*--no-header"):
        load(path, delimiter=";", decimal=",")


def test_a_decimal_comma_with_a_comma_delimiter_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match=re.escape(
            "decimal=',' and delimiter=',' are the same character: a cell such as 1,5 would "
            "be two columns; give another delimiter, e.g. delimiter=';' (--delimiter ';')")):
        csv_dialect(delimiter=",", decimal=",")
    path = write(tmp_path, "excel.csv", EXCEL)
    with pytest.raises(ConfigurationError, match=re.escape(
            "excel.csv: decimal=',' cannot be read with the columns separated by commas (the "
            "default for its extension): a cell such as 1,5 would be two columns; give "
            "another delimiter, e.g. delimiter=';'")):
        load(path, decimal=",")


def test_a_tsv_reads_a_decimal_comma_without_a_delimiter(tmp_path):
    path = write(tmp_path, "d.tsv", EXCEL.replace(";", "\t"))
    assert load(path, decimal=",").X[0].tolist() == [1.5, -2.0]


@pytest.mark.parametrize("spelling", ["tab", "TAB", "\\t", "\t"])
def test_a_tab_delimiter_in_a_csv_named_file(tmp_path, spelling):
    path = write(tmp_path, "d.csv", "a\tb\ty\n1\t2\t0\n3\t4\t1\n")
    assert load(path, delimiter=spelling).feature_names == ["a", "b"]


def test_pipes_and_a_delimiter_that_overrides_the_extension(tmp_path):
    path = write(tmp_path, "d.txt", "a|b|y\n1|2|0\n3|4|1\n")
    assert load(path, delimiter="|").X.tolist() == [[1, 2], [3, 4]]
    tsv = write(tmp_path, "d.tsv", "a,b,y\n1,2,0\n3,4,1\n")
    assert load(tsv, delimiter=",").X.tolist() == [[1, 2], [3, 4]]


def test_the_default_dialect_is_unchanged(tmp_path):
    assert csv_dialect() == CsvDialect() and CsvDialect().is_default
    tsv = write(tmp_path, "d.tsv.gz", "")
    tsv.write_bytes(gzip.compress(b"a\tb\ty\n1\t2\t0\n3\t4\t1\n"))
    assert load(tsv).X.tolist() == [[1, 2], [3, 4]]
    path = write(tmp_path, "semi.csv", "a;b;y\n1;2;0\n3;4;1\n")
    with pytest.raises(DataError, match=re.escape(
            "(the columns seem separated by semicolons: npdeep reads commas, and tabs in .tsv "
            "and .tab files; give delimiter=';' (--delimiter ';'))")):
        load(path)


def test_a_wrong_delimiter_given_says_which_one_the_file_seems_to_use(tmp_path):
    path = write(tmp_path, "d.csv", "a;b;y\n1;2;0\n3;4;1\n")
    with pytest.raises(DataError, match=re.escape(
            "(the columns seem separated by semicolons, but the delimiter given is '|': give "
            "delimiter=';' (--delimiter ';'))")):
        load(path, delimiter="|")


@pytest.mark.parametrize("kwargs,message", [
    ({"delimiter": "ab"}, "delimiter must be one character (or 'tab'), got 'ab'"),
    ({"delimiter": ""}, "delimiter must be one character (or 'tab'), got '' (a space: quote it)"),
    ({"delimiter": 5}, "delimiter must be one character, got 5"),
    ({"delimiter": '"'}, "delimiter '\"' is the quote character, which cannot separate columns"),
    ({"delimiter": "\n"}, "delimiter '\\n' is a line break, which cannot separate columns"),
    ({"delimiter": "1"}, "delimiter '1' is part of how numbers are written"),
    ({"decimal": ";"}, "decimal must be '.' or ',', got ';'"),
    ({"decimal": "."}, None),
    ({"encoding": "latin-9x"}, "encoding 'latin-9x' is not a text encoding Python knows; give "
                               "one such as utf-8, latin-1, cp1252 or utf-16"),
    ({"encoding": "base64"}, "encoding 'base64' is not a text encoding (it turns bytes into "
                             "bytes)"),
    ({"encoding": ""}, "encoding must be the name of a text encoding"),
    ({"header": "no"}, "header must be True or False, got 'no'"),
])
def test_bad_dialect_options_are_configuration_errors(tmp_path, kwargs, message):
    path = write(tmp_path, "d.csv", "a,b,y\n1,2,0\n3,4,1\n")
    if message is None:
        assert load(path, **kwargs).n_samples == 2
        return
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        load(path, **kwargs)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        load_features(path, **kwargs)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        next(iter_csv_chunks(path, 10, **kwargs))


def test_latin_1_and_cp1252_files(tmp_path):
    text = "café;prix €;y\nnoir;1,5;0\nau lait;2,5;1\nnoir;3;0\ncrème;4;1\n"
    path = write(tmp_path, "l.csv", text.replace("€", "E"), encoding="latin-1")
    with pytest.raises(DataError, match=r"l\.csv: line 1: not a UTF-8 text file .*or give its "
                                        r"encoding \(encoding='cp1252', --encoding cp1252\)"):
        load(path, delimiter=";", decimal=",")
    ds = load(path, delimiter=";", decimal=",", encoding="latin-1", categorical="onehot")
    assert "café=crème" in ds.feature_names and "prix E" in ds.feature_names
    win = write(tmp_path, "w.csv", text, encoding="cp1252")
    ds = load(win, delimiter=";", decimal=",", encoding="cp1252", categorical="onehot")
    assert ds.feature_names[-1] == "prix €"
    assert read_header(win, csv_dialect(";", ",", "cp1252")) == ["café", "prix €", "y"]


def test_a_byte_that_the_encoding_lacks_names_its_line(tmp_path):
    path = write(tmp_path, "a.csv", "a,y\n1,0\n2,1\ncafé,0\n")
    with pytest.raises(DataError, match=r"a\.csv: line 4: not ascii text \(ordinal not in "
                                        r"range\(128\) at byte 15\); is the encoding right"):
        load(path, encoding="ascii")


def test_utf_16_and_a_utf_8_byte_order_mark(tmp_path):
    text = "a,b,y\n1,2,0\n3,4,1\n"
    path = tmp_path / "u16.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    with pytest.raises(DataError, match="u16.csv: line 1: not a UTF-8 text file"):
        load(path)  # as before: a UTF-16 file read as UTF-8
    assert load(path, encoding="utf-16").X.tolist() == [[1, 2], [3, 4]]
    bom = write(tmp_path, "bom.csv", "\ufeff" + text)
    assert load(bom).feature_names == ["a", "b"]
    assert load(bom, encoding="UTF8").feature_names == ["a", "b"]  # still skipped


def test_a_gzipped_latin_1_file(tmp_path):
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress("né,y\n1,0\n2,1\n".encode("latin-1")))
    assert load(path, encoding="latin-1").feature_names == ["né"]


def test_a_file_without_a_header_names_its_columns_by_index(tmp_path):
    path = write(tmp_path, "d.txt", "0|1,5|7|0\n1|2,5|8|1\n2|3,5|9|0\n3|4,5|6|1\n")
    ds = load(path, delimiter="|", decimal=",", header=False)
    assert ds.feature_names == ["0", "1", "2"] and ds.target_name == "3"
    assert ds.n_samples == 4  # the first row is data
    ds = load(path, "3", delimiter="|", decimal=",", header=False, drop=["0"])
    assert ds.feature_names == ["1", "2"] and ds.X[:, 0].tolist() == [1.5, 2.5, 3.5, 4.5]
    ds = load(path, 1, delimiter="|", decimal=",", header=False, task="regression")
    assert ds.target_name == "1" and ds.y.tolist() == [1.5, 2.5, 3.5, 4.5]
    assert read_header(path, csv_dialect("|", header=False)) == ["0", "1", "2", "3"]
    X = load_features(path, encoder_config=FeatureEncoder.numeric(["0", "1", "2"]),
                      delimiter="|", decimal=",", header=False).X
    assert X.shape == (4, 3)  # the target column "3" ignored, as a named one is
    kept = list(iter_csv_chunks(path, 10, n_features=3, keep=["3"], delimiter="|",
                                decimal=",", header=False))
    assert kept[0][1] == [["0"], ["1"], ["0"], ["1"]]


def test_a_header_less_file_of_text_columns(tmp_path):
    path = write(tmp_path, "d.csv", "red,1,yes\nblue,2,no\nred,3,no\nblue,4,yes\n")
    ds = load(path, header=False, categorical="onehot")
    assert ds.feature_names == ["0=blue", "0=red", "1"] and ds.classes.tolist() == ["no", "yes"]


def test_header_less_errors(tmp_path):
    ragged = write(tmp_path, "r.csv", "1,2,0\n3,4\n")
    with pytest.raises(DataError, match=re.escape(
            "r.csv: line 2 has 2 fields, expected 3 (the first row has 3; the file is read "
            "without a header)")):
        load(ragged, header=False)
    empty = write(tmp_path, "e.csv", "\n\n")
    with pytest.raises(DataError, match=r"e\.csv: the file is empty; expected data rows \(read "
                                        r"without a header\)"):
        load(empty, header=False)
    one = write(tmp_path, "one.csv", "1;2\n3;4\n")
    with pytest.raises(DataError, match=re.escape(
            "one.csv: its first row has one column (read without a header); expected at least "
            "one feature column and a target column (the columns seem separated by "
            "semicolons")):
        load(one, header=False)
    with pytest.raises(DataError, match=r"cannot drop column 'a', .* the columns are: '0', '1'"):
        load(write(tmp_path, "d.csv", "1,0\n2,1\n"), header=False, drop=["a"])


def test_a_header_read_as_data_is_named_as_a_likely_header(tmp_path):
    path = write(tmp_path, "h.csv", "a,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match=re.escape(
            "h.csv: line 1, column '0': 'a' is not a number (this column is numeric) (is line 1 "
            "a header? the file is read without one: give header=True, --header)")):
        load(path, header=False)
    encoder = FeatureEncoder.numeric(["0", "1"])
    with pytest.raises(DataError, match=r"\(is line 1 a header\? the file is read without one"):
        load_features(path, encoder_config=encoder, header=False)
    text = write(tmp_path, "t.csv", "1,2,0\n3,x,1\n")  # the first row is numbers: no hint
    with pytest.raises(DataError, match=r"line 2, column '1': 'x' is not a number \(this column "
                                        r"is numeric\)$"):
        load_features(text, encoder_config=encoder, header=False)


def test_a_dialect_asked_of_data_that_is_not_a_csv_is_refused():
    with pytest.raises(DataError, match=re.escape(
            "iris: delimiter, decimal, encoding and header describe a CSV file, not builtin "
            "data (asked for delimiter=';', header=False)")):
        load("iris", delimiter=";", header=False)
    with pytest.raises(DataError, match="describe a CSV file, not builtin data"):
        load_features("iris", decimal=",", delimiter=";")


def test_a_dialect_round_trips_through_its_config():
    dialect = csv_dialect("tab", ",", "Latin-1", False)
    assert dialect.to_config() == {"delimiter": "\t", "decimal": ",", "encoding": "iso8859-1",
                                   "header": False}
    assert CsvDialect.from_config(dialect.to_config()) == dialect
    assert CsvDialect.from_config(None) == CsvDialect()
    with pytest.raises(ConfigurationError, match="a CSV dialect must be a table of delimiter"):
        CsvDialect.from_config({"delimiter": ";", "quote": "'"})
