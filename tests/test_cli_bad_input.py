"""Every bad input is refused with exit code 2, a one-line message naming the file or field, and nothing written."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import FunctionTransformer
from sklearn.semi_supervised import LabelPropagation

from export.cli import main
from export.loading import dump_skops

X, Y = load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "forest.skops"
    dump_skops(RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, Y), path)
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def _assert_refused(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    # Progress lines ("mlexport: writing ...") may precede the error; the error itself is exactly one line.
    lines = [line for line in err.splitlines() if line.strip() and not _is_progress(line)]
    assert len(lines) == 1, f"expected one error line, got: {err!r}"
    assert lines[0].startswith("mlexport: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _is_progress(line: str) -> bool:
    return line.startswith("mlexport: ") and not line.startswith("mlexport: error: ")


def _nothing_written(parent: Path, name: str = "out") -> None:
    leftovers = [p.name for p in parent.iterdir() if p.name.startswith(name) or p.name.startswith(f".{name}")]
    assert leftovers == [], leftovers


def test_missing_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(["export", str(tmp_path / "nope.skops"), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "nope.skops", "does not exist")
    _nothing_written(tmp_path)


def test_a_file_that_is_not_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.skops"
    text.write_text("not a model")
    code, err = _run(["export", str(text), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "notes.skops", "not a readable .skops")
    csv = tmp_path / "model.csv"
    csv.write_text("a,b\n1,2\n")
    code, err = _run(["export", str(csv), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "model.csv", "allowed: .skops")
    _nothing_written(tmp_path)


def test_corrupt_and_truncated_skops(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(model_file.read_bytes()[:200])
    code, err = _run(["export", str(truncated), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "truncated.skops")
    corrupt = tmp_path / "corrupt.skops"
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
    corrupt.write_bytes(bytes(data))
    code, err = _run(["export", str(corrupt), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "corrupt.skops")
    _nothing_written(tmp_path)


def _shift(x: np.ndarray) -> np.ndarray:
    return x + 1


def test_untrusted_type_inside_skops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "custom.skops"
    sio.dump(FunctionTransformer(_shift).fit(X), path)
    code, err = _run(["export", str(path), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "custom.skops", "_shift")
    _nothing_written(tmp_path)


def test_pickle_without_trust_and_with_wrong_sha(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "forest.pkl"
    path.write_bytes(pickle.dumps(RandomForestClassifier(n_estimators=2, random_state=0).fit(X, Y)))
    code, err = _run(["export", str(path), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "forest.pkl", "--trust-pickle")
    code, err = _run(["export", str(path), "--out", str(tmp_path / "out"), "--trust-pickle", "ab" * 32], capsys)
    _assert_refused(code, err, "forest.pkl", "not the trusted")
    _nothing_written(tmp_path)


def test_unfitted_and_unsupported_estimators(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unfitted = tmp_path / "unfitted.skops"
    sio.dump(RandomForestClassifier(), unfitted)
    code, err = _run(["export", str(unfitted), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "RandomForestClassifier is not fitted")
    unsupported = tmp_path / "label_propagation.skops"
    sio.dump(LabelPropagation().fit(X, Y), unsupported)
    code, err = _run(["export", str(unsupported), "--out", str(tmp_path / "out")], capsys)
    _assert_refused(code, err, "LabelPropagation", "RandomForestClassifier")  # the message lists what IS supported
    _nothing_written(tmp_path)


def test_existing_and_unwritable_out_dir(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "out"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    code, err = _run(["export", str(model_file), "--out", str(existing)], capsys)
    _assert_refused(code, err, str(existing), "--force")
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    # Running as root, permission bits do not stop writes; /proc refuses new directories for everyone.
    code, err = _run(["export", str(model_file), "--out", "/proc/mlexport-test/out"], capsys)
    _assert_refused(code, err, "/proc/mlexport-test")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = _run(["export", str(model_file), "--out", str(blocker / "out")], capsys)
    _assert_refused(code, err, str(blocker))


@pytest.mark.parametrize(("content", "needle"), [
    ("a,b,c\n1,2,3\n", "column"),
    ("sepal,b,c,d\nx,2,3,4\n", "x"),
    ("a,b,c,d\n1,2,inf,4\n", "inf"),
])
def test_bad_data_files(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str], content: str,
                        needle: str) -> None:
    data = tmp_path / "data.csv"
    data.write_text(content)
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--data", str(data)], capsys)
    _assert_refused(code, err, "data.csv", needle)
    _nothing_written(tmp_path)


def test_bad_npy_and_missing_data(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    npy = tmp_path / "data.npy"
    np.save(npy, np.zeros((3, 7)))
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--data", str(npy)], capsys)
    _assert_refused(code, err, "data.npy")
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--data",
                      str(tmp_path / "none.csv")], capsys)
    _assert_refused(code, err, "none.csv")
    _nothing_written(tmp_path)


def test_usage_errors_are_one_line(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(["export", str(model_file)], capsys)
    _assert_refused(code, err, "--out")
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--formats", "tflite"], capsys)
    _assert_refused(code, err, "tflite", "coreml, onnx, ort")
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--input-dtype", "int8"], capsys)
    _assert_refused(code, err, "int8", "float32, float64")
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--feature-names", "a,b"], capsys)
    _assert_refused(code, err, "--feature-names", "4 features")
    code, err = _run(["frobnicate"], capsys)
    _assert_refused(code, err, "frobnicate")
    _nothing_written(tmp_path)


def test_verify_and_inspect_bad_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(["verify", str(tmp_path / "nodir")], capsys)
    _assert_refused(code, err, "nodir")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x01\x02garbage")
    code, err = _run(["inspect", str(junk)], capsys)
    _assert_refused(code, err, "junk.onnx")
    code, err = _run(["inspect", str(tmp_path / "model.tflite")], capsys)
    _assert_refused(code, err, "model.tflite")


def test_nan_in_data_for_a_model_without_missing_value_support(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from sklearn.linear_model import LogisticRegression

    model = tmp_path / "lr.skops"
    dump_skops(LogisticRegression(max_iter=500).fit(X, Y), model)
    data = tmp_path / "rows.csv"
    data.write_text("a,b,c,d\n1,2,3,4\n1,,3,4\n")
    code, err = _run(["export", str(model), "--out", str(tmp_path / "out"), "--data", str(data)], capsys)
    _assert_refused(code, err, "rows.csv", "row 1 has NaN in 'column 1'", "LogisticRegression",
                    "does not accept missing values")
    _nothing_written(tmp_path)


def test_nan_in_data_is_fine_for_trees(tmp_path: Path, model_file: Path) -> None:
    data = tmp_path / "rows.npy"
    rows = X[:20].copy()
    rows[3, 2] = np.nan
    np.save(data, rows)
    assert main(["export", str(model_file), "--out", str(tmp_path / "out"), "--data", str(data),
                 "--no-parity"]) == 0


def test_data_with_wrong_column_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    model = tmp_path / "named.skops"
    dump_skops(RandomForestClassifier(n_estimators=2, random_state=0).fit(frame, Y), model)
    data = tmp_path / "rows.csv"
    pd.DataFrame(X[:5], columns=["sl", "sw", "pl", "petal"]).to_csv(data, index=False)
    code, err = _run(["export", str(model), "--out", str(tmp_path / "out"), "--data", str(data)], capsys)
    _assert_refused(code, err, "rows.csv", "pw")
    _nothing_written(tmp_path)


def test_data_file_with_a_header_and_no_rows(tmp_path: Path, model_file: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "empty.csv"
    data.write_text("a,b,c,d\n")
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--data", str(data)], capsys)
    _assert_refused(code, err, "empty.csv", "data file has no rows")
    _nothing_written(tmp_path)
    np.save(tmp_path / "empty.npy", np.zeros((0, 4)))
    code, err = _run(["export", str(model_file), "--out", str(tmp_path / "out"), "--data",
                      str(tmp_path / "empty.npy")], capsys)
    _assert_refused(code, err, "empty.npy", "data file has no rows")
    _nothing_written(tmp_path)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory, model_file: Path) -> Path:
    out = tmp_path_factory.mktemp("exports") / "forest"
    assert main(["export", str(model_file), "--out", str(out), "--formats", "onnx", "--no-parity"]) == 0
    return out


def test_path_arguments_give_one_line_messages_without_errno(tmp_path: Path, model_file: Path, export_dir: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    data = tmp_path / "rows.csv"
    data.write_text("a,b,c,d\n1,2,3,4\n")
    cases = [
        (["parity", str(export_dir), "--junit", "/nonexistent/x.xml"], ["/nonexistent", "does not exist"]),
        (["parity", str(export_dir), "--junit", str(folder)], [str(folder), "is a directory"]),
        (["parity", str(export_dir), "--html", str(folder)], ["--html", "is a directory"]),
        (["parity", str(export_dir), "--markdown", str(tmp_path / "no" / "r.md")], ["does not exist"]),
        (["parity", str(export_dir), "--data", str(folder)], [str(folder), "is a directory"]),
        (["export", str(model_file), "--out", str(tmp_path / "out"), "--data", str(folder)],
         [str(folder), "is a directory"]),
        (["export", str(folder), "--out", str(tmp_path / "out")], ["model file", "is a directory"]),
        (["parity", str(model_file)], ["export directory", "is not a directory"]),
        (["verify", str(model_file)], ["export directory", "is not a directory"]),
        (["parity", str(export_dir), "--model", str(folder)], ["model file", "is a directory"]),
        (["predict", str(folder), "--data", str(data)], ["artifact", "is a directory"]),
        (["predict", str(export_dir / "forest.onnx"), "--data", str(folder)], ["data file", "is a directory"]),
        (["inspect", str(folder)], ["artifact", "is a directory"]),
        (["ios-stub", str(model_file), "--out", str(tmp_path / "stub")], ["is not a directory"]),
        (["bench", "--peer-python", str(tmp_path / "nope")], ["--peer-python", "does not exist"]),
    ]
    for argv, needles in cases:
        code, err = _run(argv, capsys)
        _assert_refused(code, err, *needles)
        assert "Errno" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "rows.csv"]  # nothing written anywhere
    assert list(folder.iterdir()) == []


def test_os_errors_are_described_in_words() -> None:
    import errno

    from export.path_checks import describe_os_error

    text = describe_os_error(IsADirectoryError(errno.EISDIR, "Is a directory", "reports"))
    assert text == "cannot use 'reports': is a directory; give a file path"
    assert "Errno" not in describe_os_error(OSError(errno.ENOSPC, "No space left on device", "/full/x"))
