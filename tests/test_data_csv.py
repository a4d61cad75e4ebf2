"""CSV loading: every format feature and every error, matched on its message."""

from __future__ import annotations

import gzip
import json
import re

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

from npdeep.data import FeatureEncoder, iter_csv_chunks, load, load_features
from npdeep.errors import DataError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def iris_csv(tmp_path):
    bunch = load_iris()
    header = ",".join(n.replace(" (cm)", "").replace(" ", "_") for n in bunch.feature_names)
    lines = [header + ",species"]
    for row, t in zip(bunch.data, bunch.target, strict=True):
        lines.append(",".join(repr(float(v)) for v in row) + f",{bunch.target_names[t]}")
    return write(tmp_path, "\n".join(lines) + "\n", "iris.csv"), bunch


def test_iris_csv_text_labels_classification(iris_csv):
    path, bunch = iris_csv
    ds = load(path)
    assert ds.X.shape == (150, 4) and ds.X.dtype == np.float64
    np.testing.assert_array_equal(ds.X, bunch.data)
    assert ds.task == "classification"
    assert ds.target_name == "species"
    assert ds.classes.tolist() == ["setosa", "versicolor", "virginica"]
    assert ds.y[0] == "setosa" and ds.y[-1] == "virginica"
    assert ds.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert "iris.csv" in ds.source and "150 rows" in ds.source
    json.dumps(ds.summary())


def test_diabetes_csv_is_regression(tmp_path):
    bunch = load_diabetes()
    lines = [",".join([*bunch.feature_names, "progression"])]
    lines += [
        ",".join(repr(float(v)) for v in [*r, t])
        for r, t in zip(bunch.data, bunch.target, strict=True)
    ]
    ds = load(write(tmp_path, "\n".join(lines)))
    assert ds.task == "regression" and ds.classes is None
    assert ds.y.dtype == np.float64
    np.testing.assert_array_equal(ds.y, bunch.target)


def test_target_by_name_and_index(tmp_path):
    path = write(tmp_path, "label,a,b\n0,1.5,2\n1,3,4\n0,5,6\n")
    by_name = load(path, target="label")
    by_index = load(path, target=0)
    by_index_str = load(path, target="0")
    for ds in (by_name, by_index, by_index_str):
        assert ds.target_name == "label"
        assert ds.feature_names == ["a", "b"]
        np.testing.assert_array_equal(ds.X, [[1.5, 2], [3, 4], [5, 6]])
        assert ds.y.tolist() == [0, 1, 0] and ds.y.dtype == np.int64
    assert load(path, target=-1).target_name == "b"


def test_task_override(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n3,0\n4,1\n")
    assert load(path).task == "classification"
    ds = load(path, task="regression")
    assert ds.task == "regression" and ds.y.dtype == np.float64


def test_quoted_fields_blank_lines_bom_whitespace_and_tsv(tmp_path):
    text = '\ufeff"a","b c",y\n\n 1 , "2",x\n3,4, z \n\n'
    ds = load(write(tmp_path, text), task="classification")
    assert ds.feature_names == ["a", "b c"]
    np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4]])
    assert ds.y.tolist() == ["x", "z"]
    tsv = load(write(tmp_path, "a\tb\ty\n1\t2\t0\n3\t4\t1\n", "d.tsv"))
    np.testing.assert_array_equal(tsv.X, [[1, 2], [3, 4]])


def test_gzipped_csv(tmp_path):
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(b"a,y\n1,0\n2,1\n"))
    ds = load(path)
    np.testing.assert_array_equal(ds.X, [[1], [2]])


def test_onehot_encoding_and_replay(tmp_path):
    path = write(tmp_path, "color,size,y\nred,1,0\nblue,2,1\nred,3,1\ngreen,4,0\n")
    ds = load(path, categorical="onehot")
    assert ds.feature_names == ["color=blue", "color=green", "color=red", "size"]
    np.testing.assert_array_equal(ds.X, [[0, 0, 1, 1], [1, 0, 0, 2], [0, 0, 1, 3], [0, 1, 0, 4]])
    config = json.loads(json.dumps(ds.encoder.to_config()))
    assert FeatureEncoder.from_config(config) == ds.encoder
    # Replayed on evaluation data with other rows and columns in another order.
    other = write(tmp_path, "y,size,color\n1,9,green\n0,8,red\n", "eval.csv")
    ev = load(other, target="y", encoder_config=config)
    np.testing.assert_array_equal(ev.X, [[0, 1, 0, 9], [0, 0, 1, 8]])
    assert ev.feature_names == ds.feature_names


def test_text_column_rejected_by_name(tmp_path):
    path = write(tmp_path, "color,size,y\nred,1,0\nblue,2,1\n")
    with pytest.raises(DataError, match=r"column 'color' holds text \(e.g. 'red' on line 2\)"):
        load(path)
    with pytest.raises(DataError, match="categorical must be 'reject' or 'onehot', got 'yes'"):
        load(path, categorical="yes")


@pytest.mark.parametrize("text", [
    "id,name,size,y\n1,rex,1,0\n2,tom,2,1\n,ann,3,0\n",     # a text column, an empty cell
    "id,name,size,y\n1,5,1,0\n2,nan,2,1\n3,inf,3,0\n",      # numbers, NaN and inf
])
def test_dropped_columns_are_never_read(tmp_path, text):
    path = write(tmp_path, text)
    ds = load(path, drop=["id", "name"])
    assert ds.feature_names == ["size"]
    np.testing.assert_array_equal(ds.X, [[1], [2], [3]])
    # the stored encoding names the kept columns only: evaluation data matches them by name
    ev = load(path, encoder_config=ds.encoder.to_config())
    np.testing.assert_array_equal(ev.X, ds.X)


def test_text_column_refusal_names_drop(tmp_path):
    path = write(tmp_path, "color,size,y\nred,1,0\nblue,2,1\n")
    with pytest.raises(DataError, match=r"holds text \(e.g. 'red' on line 2\); drop it "
                       r"\(drop=\['color'\], --drop color\), or ask for one-hot encoding"):
        load(path)


@pytest.mark.parametrize("drop, match", [
    (["nme"], r"cannot drop column 'nme', which it does not have; the columns are: 'name', "
              r"'size', 'y'; did you mean 'name'\?$"),
    (["y"], r"cannot drop column 'y': it is the target$"),
    (["name", "size"], r"dropping 'name', 'size' leaves no feature column$"),
])
def test_bad_drops_are_refused_by_name(tmp_path, drop, match):
    with pytest.raises(DataError, match=match):
        load(write(tmp_path, "name,size,y\na,1,0\nb,2,1\n"), drop=drop)


def test_only_csv_columns_can_be_dropped():
    with pytest.raises(DataError, match=r"iris: columns can be dropped from a CSV file only, not "
                                        r"from builtin data \(asked to drop 'x0'\)"):
        load("iris", drop=["x0"])


def test_unknown_category_at_replay(tmp_path):
    ds = load(write(tmp_path, "c,y\na,0\nb,1\n"), categorical="onehot")
    other = write(tmp_path, "c,y\na,0\nz,1\n", "o.csv")
    with pytest.raises(DataError, match=r"line 3, column 'c': category 'z' was not seen"):
        load(other, encoder_config=ds.encoder.to_config())


def test_an_empty_category_at_replay_names_the_file_once(tmp_path):
    ds = load(write(tmp_path, "x,c,y\n1,a,0\n2,b,1\n"), categorical="onehot")
    other = write(tmp_path, "x,c\n1,a\n2, \n", "o.csv")
    with pytest.raises(DataError, match=r"^[^:]*o\.csv: line 3, column 'c': empty cell"):
        load_features(other, encoder_config=ds.encoder)


def test_one_hot_columns_are_matched_by_name_only(tmp_path):
    ds = load(write(tmp_path, "x,c,y\n1,a,0\n2,b,1\n"), categorical="onehot")  # 3 features
    other = write(tmp_path, "p,q,r\n1,2,3\n", "o.csv")  # 3 columns, none of the names
    with pytest.raises(DataError, match=r"o\.csv: holds none of the 2 columns the model was "
                                        r"trained on \('x', 'c'\); a model with one-hot encoded "
                                        r"text columns matches columns by name only"):
        load_features(other, encoder_config=ds.encoder)


@pytest.mark.parametrize("text", ["a,b,y\n1,2\x00,0\n3,4,1\n",
                                  "a,b,y\n1,2,0\n".encode("utf-16-le").decode("utf-8")])
def test_a_nul_character_is_refused_naming_its_line(tmp_path, text):
    # UTF-16 without a BOM is valid UTF-8 with NULs; NumPy drops a trailing NUL ('2\x00' is 2)
    line = 2 if "\x00,0" in text else 1
    with pytest.raises(DataError, match=rf"data\.csv: line {line}: holds a NUL character, "
                                        r"which no CSV text holds: is the file UTF-16"):
        load(write(tmp_path, text))


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match="the file is empty"):
        load(write(tmp_path, ""))
    with pytest.raises(DataError, match="the file is empty"):
        load(write(tmp_path, "\n\n  \n", "blank.csv"))


def test_header_only(tmp_path):
    with pytest.raises(DataError, match="has a header on line 1 but no data rows"):
        load(write(tmp_path, "a,b,y\n"))


def test_single_column(tmp_path):
    with pytest.raises(DataError, match="names only"):
        load(write(tmp_path, "y\n1\n2\n"))


def test_ragged_rows_name_the_line(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,6\n")
    with pytest.raises(DataError, match=r"line 4 has 2 fields, expected 3"):
        load(path)
    path = write(tmp_path, "a,b,y\n1,2,0\n\n3,4,1,9\n", "long.csv")
    with pytest.raises(DataError, match=r"line 4 has 4 fields, expected 3"):
        load(path)
    path = write(tmp_path, "a,b,y\n1,2,0\n7\n")
    with pytest.raises(DataError, match=r"line 3 has 1 field, expected 3"):
        load(path)
    path = write(tmp_path, "a,b,y\n1,2,0,\n")
    with pytest.raises(DataError, match=r"line 2 has 4 fields, expected 3 \(the header on line 1 "
                                        r"names 3 columns\) \(a delimiter at the end of the line"):
        load(path)


def test_non_numeric_cell_names_line_and_column(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,oops,0\n7,8,1\n")
    with pytest.raises(DataError, match=r"line 4, column 'b': 'oops' is not a number"):
        load(path)


def test_non_numeric_target_cell_for_regression(tmp_path):
    rows = "\n".join(f"{i},{i * 1.5}" for i in range(10))
    path = write(tmp_path, f"a,y\n{rows}\n10,bad\n")
    with pytest.raises(DataError, match=r"line 12, column 'y': the target holds numbers and "
                                        r"text \('bad'\): for classes use --task classification"):
        load(path)
    path = write(tmp_path, f"a,y\n{rows}\n10,NA\n")
    with pytest.raises(DataError, match=r"line 12, column 'y': 'NA' marks a missing value; "
                                        r"missing values are not supported"):
        load(path)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", r"line 3, column 'b': empty cell"),
        ("nan", r"line 3, column 'b': 'nan' is not a finite number"),
        ("inf", r"line 3, column 'b': 'inf' is not a finite number"),
        ("-Infinity", r"line 3, column 'b': '-Infinity' is not a finite number"),
    ],
)
def test_missing_and_non_finite_cells(tmp_path, cell, message):
    path = write(tmp_path, f"a,b,y\n1,2,0\n3,{cell},1\n5,6,0\n")
    with pytest.raises(DataError, match=message):
        load(path)


@pytest.mark.parametrize(
    ("cell", "hint"),
    [("1_000", "write digits without '_'"), ("\u0663", "write numbers with ASCII digits"),
     ("\uff11", "write numbers with ASCII digits")],
)
def test_cells_float_reads_but_a_csv_never_holds_are_not_numbers(tmp_path, cell, hint):
    # float() and NumPy read '1_000' as 1000 and Arabic-Indic or full-width digits as digits
    path = write(tmp_path, f"a,b,y\n1,2,0\n3,{cell},1\n5,6,0\n")
    message = rf"line 3, column 'b': '{cell}' is not a number \(this column is numeric; {hint}\)"
    with pytest.raises(DataError, match=message):
        load(path)
    replay = load(write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n", "train.csv")).encoder
    with pytest.raises(DataError, match=message):
        load(path, encoder_config=replay)
    with pytest.raises(DataError, match=message):
        list(iter_csv_chunks(path, 10, encoder_config=replay))


def test_a_column_of_numbers_grouped_with_underscores_is_named_so(tmp_path):
    path = write(tmp_path, "a,b,y\n1_000,1,0\n2_000,2,1\n3_500.5,3,0\n")
    with pytest.raises(DataError, match=r"column 'a' holds numbers with '_' between digits "
                                        r"\(e.g. '1_000'\), which a CSV number never holds"):
        load(path)
    ds = load(path, categorical="onehot")  # codes such as '2021_01' are categories
    assert ds.feature_names[:3] == ["a=1_000", "a=2_000", "a=3_500.5"]


def test_underscores_make_a_label_text_not_a_number(tmp_path):
    path = write(tmp_path, "a,y\n1,1_000\n2,2000\n3,1_000\n")
    ds = load(path, task="classification")
    assert ds.classes.tolist() == ["1_000", "2000"]
    with pytest.raises(DataError, match=r"line 2: target 'y' value '1_000' is not a number"):
        load(path, task="regression")


def test_a_non_ascii_space_around_a_number_is_still_the_number(tmp_path):
    ds = load(write(tmp_path, "a,y\n1\u00a0,0\n\u20032,1\n"))
    np.testing.assert_array_equal(ds.X[:, 0], [1.0, 2.0])


@pytest.mark.parametrize("labels", [(2**53, 2**53 + 1), (2**64 - 2, 2**64 - 1),
                                    (-(2**62) - 1, -(2**62))])
def test_integer_labels_are_read_exactly(tmp_path, labels):
    # through float64, 2**53 + 1 would be 2**53, and 2**64 - 1 would wrap to -2**63
    rows = "\n".join(f"{i},{labels[i % 2]}" for i in range(6))
    ds = load(write(tmp_path, f"a,y\n{rows}\n"))
    assert ds.task == "classification"
    assert ds.classes.tolist() == sorted(labels)
    assert ds.y.tolist() == [labels[i % 2] for i in range(6)]


def test_integer_labels_beyond_64_bits_are_refused(tmp_path):
    path = write(tmp_path, "a,y\n1,100000000000000000000\n2,3\n3,3\n")
    with pytest.raises(DataError, match=r"data\.csv: target 'y' holds the label 1e\+20, beyond "
                                        r"the 64-bit integers"):
        load(path, task="classification")
    assert load(path, task="regression").y.tolist() == [1e20, 3.0, 3.0]


def test_empty_target_cell(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,\n")
    with pytest.raises(DataError, match=r"line 3, column 'y': empty cell"):
        load(path)


@pytest.mark.parametrize("text", ["a,y\n1,0\n,1\n", "a,y\nx,0\n,1\n"])
def test_an_empty_cell_says_what_to_do(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=r"line 3, column 'a': empty cell; missing values are not "
                       r"supported: fill them in or drop those rows first \(pandas: "
                       r"df\.dropna\(\) or df\.fillna\(value\)\)$"):
        load(path, categorical="onehot")


@pytest.mark.parametrize("target, hint", [("Label", "; did you mean 'label'?"),
                                          ("lable", "; did you mean 'label'?"),
                                          ("price", "")])
def test_a_target_name_off_by_case_or_a_typo_gets_the_column(tmp_path, target, hint):
    path = write(tmp_path, "a,b,label\n1,2,0\n")
    with pytest.raises(DataError, match=rf"the columns are: 'a', 'b', 'label'{re.escape(hint)}$"):
        load(path, target=target)


def test_missing_target_column_lists_columns(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n")
    with pytest.raises(
        DataError, match=r"target column 'price' not found; the columns are: 'a', 'b', 'label'"
    ):
        load(path, target="price")
    with pytest.raises(DataError, match=r"target column index 7 is out of range for 3 columns"):
        load(path, target=7)


def test_single_class_target(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n2,cat\n3,cat\n")
    with pytest.raises(
        DataError, match=r"data\.csv: target 'y' has a single class \('cat'\).*at least 2 "
                         r"classes"
    ):
        load(path)


def test_too_few_classes_counts_them(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n2,dog\n3,cat\n")
    with pytest.raises(DataError, match=r"target 'y' has 2 classes \('cat', 'dog'\); at least 3 "
                                        r"are needed"):
        load(path, min_classes=3)


def test_text_target_for_regression(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n2,dog\n")
    with pytest.raises(DataError, match=r"line 2: target 'y' value 'cat' is not a number"):
        load(path, task="regression")


def test_non_integer_target_forced_to_classification(tmp_path):
    path = write(tmp_path, "a,y\n1,0.5\n2,1.5\n")
    with pytest.raises(DataError, match="holds non-integer numbers"):
        load(path, task="classification")


def test_unknown_task(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n")
    with pytest.raises(
        DataError, match=r"task must be one of classification, regression.*got 'clustering'"
    ):
        load(path, task="clustering")


def test_bad_header(tmp_path):
    with pytest.raises(DataError, match="column name 'a' appears more than once"):
        load(write(tmp_path, "a,a,y\n1,2,0\n"))
    with pytest.raises(DataError, match="header column 1 has no name"):
        load(write(tmp_path, "a,,y\n1,2,0\n", "d2.csv"))


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"a,y\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        load(path)


def test_not_utf8_deep_in_the_file_names_its_line_and_file_offset(tmp_path):
    # an Excel (cp1252) degree sign on line 15001: the offset reported was counted from the
    # text reader's read-ahead block (6166), not from the file (202774), and no line was named
    rows = ["a,b,y"] + [f"{i},{i},{i % 2}" for i in range(20000)]
    head = ("\r\n".join(rows[:15000]) + "\r\n").encode()
    data = head + b"1,\xb0,0\r\n" + ("\r\n".join(rows[15000:]) + "\r\n").encode()
    for name, raw in (("cp.csv", data), ("cp.csv.gz", gzip.compress(data))):
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(DataError, match=rf"{name}: line 15001: not a UTF-8 text file "
                                            rf"\(invalid start byte at byte {len(head) + 2}\)"):
            load(path)


def test_replay_feature_count_mismatch_names_expected(tmp_path):
    ds = load(write(tmp_path, "a,b,c,y\n1,2,3,0\n4,5,6,1\n"))
    other = write(tmp_path, "p,q,y\n1,2,0\n", "o.csv")
    with pytest.raises(DataError, match="has 2 feature columns but the model expects 3 features"):
        load(other, encoder_config=ds.encoder.to_config())


def test_header_that_looks_like_data(tmp_path):
    with pytest.raises(DataError, match="line 1 looks like data, not a header"):
        load(write(tmp_path, "1,2,0\n3,4,1\n"))


def test_many_small_chunks_keep_line_numbers(tmp_path, monkeypatch):
    import npdeep.data.csv as csv_module

    monkeypatch.setattr(csv_module, "READ_CHUNK_CELLS", 6)  # two rows of three cells per chunk
    body = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(9))
    ds = load(write(tmp_path, "a,b,y\n" + body))
    np.testing.assert_array_equal(ds.X[:, 0], np.arange(9))
    assert ds.y.tolist() == [i % 2 for i in range(9)]
    bad = write(tmp_path, "a,b,y\n" + body + "9,inf,1\n", "bad.csv")
    with pytest.raises(DataError, match=r"line 11, column 'b': 'inf' is not a finite number"):
        load(bad)
    # Text appearing only in a late chunk switches to the column-by-column reader.
    text = write(tmp_path, "a,c,y\n" + body.replace("8,2,0", "8,x,0"), "text.csv")
    with pytest.raises(DataError, match=r"line 10, column 'c': 'x' is not a number"):
        load(text)
    late = write(tmp_path, "a,c,y\n1,u,0\n2,v,1\n3,u,1\n4,w,0\n5,v,1\n", "late.csv")
    ds = load(late, categorical="onehot")
    assert ds.feature_names == ["a", "c=u", "c=v", "c=w"]


def test_csv_written_by_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    path = tmp_path / "bc.csv"
    frame.to_csv(path, index=False)
    ds = load(path, target="target")
    np.testing.assert_allclose(ds.X, frame.drop(columns="target").to_numpy(), rtol=1e-15)
    assert ds.task == "classification" and ds.classes.tolist() == [0, 1]
    frame.to_csv(tmp_path / "indexed.csv")
    with pytest.raises(
        DataError, match=r"header column 0 has no name \(an index written by pandas"
    ):
        load(tmp_path / "indexed.csv")
    assert pd is not None


def test_decimal_commas_and_other_separators_get_a_hint(tmp_path):
    path = write(tmp_path, 'a,y\n"0,5",0\n"1,25",1\n"2,0",0\n', "commas.csv")
    with pytest.raises(DataError, match=r"column 'a' holds numbers written with a decimal comma "
                                        r"\(e.g. '0,5' on line 2\)"):
        load(path)
    path = write(tmp_path, "a;b;y\n1;2;0\n3;4;1\n", "semi.csv")
    with pytest.raises(DataError, match=r"names only \['a;b;y'\].*separated by semicolons"):
        load(path)
    path = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n", "commas.tsv")  # a .tsv is read with tabs
    with pytest.raises(DataError, match=r"names only \['a,b,y'\].*separated by commas"):
        load(path)
    replay = load(write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")).encoder
    with pytest.raises(DataError, match=r"has 1 feature column .*separated by commas"):
        load_features(path, encoder_config=replay)


@pytest.mark.parametrize(("first", "message"), [
    ("# made by a tool", r"names only \['# made by a tool'\]"),
    ("# made by a tool, v2", r"line 2 has 3 fields, expected 2"),
])
def test_a_comment_line_above_the_header_gets_a_hint(tmp_path, first, message):
    path = write(tmp_path, f"{first}\na,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match=message + r".*\(is line 1 a comment\? npdeep reads the "
                                                  r"first line as the header"):
        load(path)


def test_npz_targets_must_be_real_numbers_or_text(tmp_path):
    import numpy as np

    path = tmp_path / "c.npz"
    np.savez(path, X=np.ones((4, 2)), y=np.array([1 + 1j, 2, 1, 2]))
    with pytest.raises(DataError, match=r"y has dtype complex128; expected real numbers or text"):
        load(path)
    np.savez(path, X=np.array(3.0), y=np.zeros(1))
    with pytest.raises(DataError, match=r"X has shape \(\); expected 2-D"):
        load(path)


def _long_cell_csv(tmp_path, n=2000, width=5000):
    lines = ["a,b,color,notes,y"]
    for i in range(n):
        note = "x" * width if i == 7 else "ok"
        lines.append(f"{i % 7 / 3:.3f},{i % 5},{'rgb'[i % 3]},{note},{i % 2}")
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("drop", [["notes"], []])
def test_one_long_cell_costs_memory_in_proportion_to_the_file(tmp_path, drop):
    import tracemalloc

    path = _long_cell_csv(tmp_path)
    # a text array of every cell would take 2000 rows x 5 columns x 5000 chars x 4 bytes
    tracemalloc.start()
    try:
        ds = load(path, categorical="onehot", drop=drop)
        X = load_features(path, encoder_config=ds.encoder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8e6, peak
    assert ds.X.shape == (2000, 2 + 3 + (0 if drop else 2))
    assert X.X.shape == ds.X.shape
    np.testing.assert_array_equal(X.X, ds.X)


def test_running_out_of_memory_is_a_data_error(tmp_path, monkeypatch):
    from npdeep.data import cells

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cells, "classify", no_memory)
    monkeypatch.setattr(cells, "encode", no_memory)
    path = _long_cell_csv(tmp_path, n=20)
    with pytest.raises(DataError, match=r"long\.csv: not enough memory to read it"):
        load(path, categorical="onehot")
    with pytest.raises(DataError, match=r"long\.csv: not enough memory to read it"):
        load_features(path, encoder_config=FeatureEncoder.numeric(["a", "b"]))


def test_a_first_column_named_pk_is_a_csv_not_a_zip(tmp_path):
    path = write(tmp_path, "PK,a,y\n" + "".join(f"{i},{2 * i},{i % 2}\n" for i in range(8)))
    ds = load(path)
    assert ds.feature_names == ["PK", "a"] and ds.n_samples == 8


def test_pandas_default_integer_column_names_are_refused_with_the_way_out(tmp_path):
    # 0,1 is also a likely first row of a header-less 0/1 file: read as a header, it was lost
    path = write(tmp_path, "0,1,2,3\n" + "".join(f"{i},{i / 2},{i % 3},{i % 2}\n"
                                                 for i in range(8)))
    with pytest.raises(DataError, match=r"line 1 looks like data, not a header \(every cell is "
                                        r"a number\); the first line must name the columns "
                                        r"\(pandas writes 0,1,...,n-1 as the header of a frame "
                                        r"without column names"):
        load(path)
    for first in ("1,2,3,4", "0,2,1,3", "0,1,2,2"):  # not 0..n-1 in order: no pandas hint
        path = write(tmp_path, f"{first}\n5,6,7,8\n")
        with pytest.raises(DataError, match=r"line 1 looks like data, not a header "
                                            r"\(every cell is a number\); the first line "
                                            r"must name the columns; or, for a file without "
                                            r"a header row, give header=False "
                                            r"\(--no-header\)$"):
            load(path)


def test_a_cell_beyond_the_csv_modules_default_field_limit(tmp_path):
    note = "x" * 200_000  # the csv module's default limit is 131,072 characters
    path = write(tmp_path, f"a,notes,y\n1,ok,0\n2,{note},1\n3,ok,0\n4,ok,1\n")
    import csv

    before = csv.field_size_limit()
    ds = load(path, drop=["notes"])
    assert ds.X[:, 0].tolist() == [1, 2, 3, 4]
    assert csv.field_size_limit() == before  # the process's limit is the caller's again


def _column_csv(tmp_path, cells, name="data.csv"):
    rows = "".join(f"{c},{i % 3},{i % 2}\n" for i, c in enumerate(cells))
    return write(tmp_path, f"a,b,y\n{rows}", name)


@pytest.mark.parametrize("categorical", ["reject", "onehot"])
def test_numbers_with_missing_markers_are_named_so(tmp_path, categorical):
    # 60% 'NA': one-hot encoded as text, every distinct number became a feature
    cells = ["NA" if i % 5 < 3 else f"{i * 1.5}" for i in range(50)]
    path = _column_csv(tmp_path, cells)
    message = (r"column 'a' holds numbers with missing values \(30 of 50 cells are 'NA', the "
               r"first on line 2\): missing values are not supported: fill them in or drop")
    with pytest.raises(DataError, match=message):
        load(path, categorical=categorical)
    cells = ["?" if i == 3 else "n/a" if i == 9 else str(i) for i in range(20)]
    with pytest.raises(DataError, match=r"\(2 of 20 cells are 1 '\?', 1 'n/a', the first on line "
                                        r"5\)"):
        load(_column_csv(tmp_path, cells), categorical=categorical)
    cells = ["NaN" if i % 2 else str(i) for i in range(10)] + ["x"]  # NaN as text, and 'x'
    path = write(tmp_path, "a,b,y\n" + "".join(f"{c},w{i % 2},{i % 2}\n"
                                               for i, c in enumerate(cells[:10])))
    with pytest.raises(DataError, match=r"\(5 of 10 cells are 'NaN'"):
        load(path, categorical="onehot")


def test_a_missing_marker_at_predict_time_is_named_so(tmp_path):
    replay = load(write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n", "train.csv")).encoder
    path = write(tmp_path, "a,b\n1,2\n3,N/A\n")
    with pytest.raises(DataError, match=r"line 3, column 'b': 'N/A' marks a missing value; "
                                        r"missing values are not supported"):
        load_features(path, encoder_config=replay)


def test_a_text_column_like_an_identifier_is_refused_under_one_hot(tmp_path):
    path = _column_csv(tmp_path, [f"C{i:05d}" for i in range(300)])
    with pytest.raises(DataError, match=r"column 'a' holds 300 distinct text values in 300 rows "
                                        r"\(e.g. 'C00000' on line 2\), like an identifier .*"
                                        r"--drop a\)"):
        load(path, categorical="onehot")
    assert load(path, categorical="onehot", drop=["a"]).n_features == 1
    few = _column_csv(tmp_path, [f"C{i % 100:05d}" for i in range(300)], "few.csv")
    assert load(few, categorical="onehot").n_features == 101  # 100 categories: one-hot
    # many categories, but each on more than one row (130 cities in 240 rows): a feature
    cities = _column_csv(tmp_path, [f"city{i % 130}" for i in range(240)], "cities.csv")
    assert load(cities, categorical="onehot").n_features == 131


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (['"1,234"', '"12,345"', '"2,000"'],
         r"column 'a' holds numbers with thousands separators \(e.g. '1,234' on line 2\)\? "
         r"remove them"),
        (['"1,234,567"'], r"holds numbers with thousands separators \(e.g. '1,234,567'"),
        (['"1,234"'], r"column 'a' holds '1,234' \(line 2\): a number with a thousands separator "
                      r"\(remove it\) or with a decimal comma \(write a decimal point, or read "
                      r"the file with decimal=',' \(--decimal ,\)\)\?"),
        (['"0,5"', '"1,250"', '"2,0"'], r"holds numbers written with a decimal comma \(e.g. '0,5' "
                                        r"on line 2\); write them with a decimal point"),
        (['"1,234.56"', '"12,345.00"'], r"column 'a' holds numbers with formatting \(e.g. "
                                        r"'1,234.56' on line 2\): thousands separators, %, "
                                        r"currency symbols; remove it"),
        (["10%", "20%", "5"], r"holds numbers with formatting \(e.g. '10%'"),
        (["$5", "$12.50"], r"holds numbers with formatting \(e.g. '\$5'"),
        (["1 000 000", "2 500"], r"holds numbers with formatting \(e.g. '1 000 000'"),
    ],
)
@pytest.mark.parametrize("categorical", ["reject", "onehot"])
def test_formatted_numbers_are_named_so(tmp_path, cells, message, categorical):
    with pytest.raises(DataError, match=message):
        load(_column_csv(tmp_path, cells), categorical=categorical)


@pytest.mark.parametrize(("cell", "hint"), [
    ('"5,000"', "a thousands separator? remove it; or, for a decimal comma, read the file with "
                "decimal=',' (--decimal ,)"),
    ('"2,5"', "a decimal comma? write a decimal point"),
    ("7%", "numbers with formatting (thousands separators, %, currency): remove it"),
])
def test_one_formatted_number_in_a_numeric_column_gets_a_hint(tmp_path, cell, hint):
    path = _column_csv(tmp_path, ["1", "2", "3", cell, "x"])
    shown = cell.strip('"')
    with pytest.raises(DataError, match=re.escape(f"line 5, column 'a': '{shown}' is not a "
                                                  f"number (this column is numeric; {hint})")):
        load(path, categorical="onehot")


def test_codes_that_only_look_like_numbers_stay_categories(tmp_path):
    cells = ["555 1234", "555 9876", "2021-01-05", "12:30", "560 001", "555 123"] * 3
    ds = load(_column_csv(tmp_path, cells), categorical="onehot")
    assert ds.feature_names[:6] == ["a=12:30", "a=2021-01-05", "a=555 123", "a=555 1234",
                                    "a=555 9876", "a=560 001"]  # a lone space group: a code
