"""The CLI's one error -> exit-code mapping: our own errors (export's MlexportError family, parity's ParityError
family, OS refusals) are bad input, exit 2; anything else is a bug, exit 3 with a one-line request to report it."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

import export.cli as cli
from export import errors as export_errors
from parity import errors as parity_errors


def _stray_numpy_error() -> None:
    np.zeros(2).reshape(3)  # numpy's own ValueError: a bug, not the user's input


def _run_raising(exc_or_callable: object, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    def dispatch(_args: object) -> int:
        if callable(exc_or_callable):
            exc_or_callable()
        raise exc_or_callable  # type: ignore[misc]

    monkeypatch.setattr(cli, "_dispatch", dispatch)
    code = cli.main(["supported"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if line.strip()]


def _subclasses(base: type) -> list[type]:
    found = [base]
    for sub in base.__subclasses__():
        found.extend(_subclasses(sub))
    return found


@pytest.mark.parametrize("error_type", [t for t in _subclasses(parity_errors.ParityError)], ids=lambda t: t.__name__)
def test_every_parity_error_is_bad_input(error_type: type, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _run_raising(error_type("artifact 'x.onnx' has no output 'label'"), monkeypatch, capsys)
    assert code == 2
    assert lines == ["mlexport: error: artifact 'x.onnx' has no output 'label'"]


def test_every_parity_error_class_in_the_module_derives_from_parity_error() -> None:
    exceptions = [v for v in vars(parity_errors).values() if isinstance(v, type) and issubclass(v, BaseException)]
    assert len(exceptions) >= 6
    assert all(issubclass(t, parity_errors.ParityError) for t in exceptions)


@pytest.mark.parametrize("error_type", [t for t in _subclasses(export_errors.MlexportError)],
                         ids=lambda t: t.__name__)
def test_mlexport_errors_keep_their_exit_code(error_type: type, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _run_raising(error_type("model file 'm.skops' is corrupt"), monkeypatch, capsys)
    assert code == error_type.exit_code
    assert code in (1, 2)
    assert lines == ["mlexport: error: model file 'm.skops' is corrupt"]


def test_os_refusal_is_bad_input_named_by_file_without_errno(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _run_raising(PermissionError(errno.EACCES, "Permission denied", "/ro/out"), monkeypatch, capsys)
    assert code == 2
    assert lines == ["mlexport: error: cannot use '/ro/out': permission denied"]


@pytest.mark.parametrize("bug", [_stray_numpy_error, KeyError("classes_"), TypeError("unhashable type: 'list'"),
                                 ValueError("operands could not be broadcast together")],
                         ids=["numpy-reshape", "KeyError", "TypeError", "ValueError"])
def test_anything_unexpected_is_an_internal_error_exit_3(bug: object, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _run_raising(bug, monkeypatch, capsys)
    assert code == 3
    assert len(lines) == 1
    assert lines[0].startswith("mlexport: error: internal error, please report it"), lines[0]


def test_stray_value_error_inside_a_real_export_is_internal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Through the real export command (not a patched dispatcher): a numpy ValueError deep in the flow is not
    reported as the user's bad input any more."""
    from sklearn.linear_model import LinearRegression

    import export.exporter as exporter
    from export.loading import dump_skops

    model = tmp_path / "lr.skops"
    dump_skops(LinearRegression().fit(np.arange(8.0).reshape(4, 2), np.arange(4.0)), model)

    def broken(*_args: object, **_kwargs: object) -> object:
        _stray_numpy_error()
        raise AssertionError("unreachable")

    monkeypatch.setattr(exporter, "export_model", broken)
    code = cli.main(["export", str(model), "--out", str(tmp_path / "out"), "--no-parity"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "internal error, please report it" in err and "ValueError" in err
    assert not (tmp_path / "out").exists()
