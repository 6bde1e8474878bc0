"""The one exceptions module of mlexport: every failure a user can cause, with the exit code the CLI maps it to."""

from __future__ import annotations


def describe_exception(exc: BaseException, limit: int = 200) -> str:
    """`TypeName: message` on one line, shortened: how a library's exception is quoted inside our own messages."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:limit]}" if text else type(exc).__name__


class MlexportError(Exception):
    """Base of every error mlexport raises on purpose. `exit_code` is what the CLI returns for it."""

    exit_code = 2


class UsageError(MlexportError):
    """A command-line flag or API argument is missing, malformed or contradicts another."""


class InputFileError(MlexportError):
    """A model or data file is missing, unreadable, corrupt, or not of an allowed kind."""


class UntrustedModelError(MlexportError):
    """A model file would need code execution (pickle) or untrusted types (skops) to load."""


class NotFittedError(MlexportError):
    """The estimator has not been fitted, so there is nothing to export."""


class UnsupportedEstimatorError(MlexportError):
    """The estimator, or one of its parameters, has no exact encoding in the requested format."""


class DataError(MlexportError):
    """User data does not match the model's signature (column count, names, non-numeric or non-finite values)."""


class OutputDirError(MlexportError):
    """The output directory exists (without --force), or cannot be written."""


class VersionMismatchError(MlexportError):
    """The model file was saved by other library versions than the running ones, and --strict-versions is set."""


class ExportFailedError(MlexportError):
    """A writer produced an artifact that its own checks reject (a bug in mlexport, reported, never shipped)."""


class ParityFailedError(MlexportError):
    """An exported artifact disagrees with the Python model beyond the stated tolerance."""

    exit_code = 1


class VerifyFailedError(MlexportError):
    """A file listed in manifest.json is missing or its SHA-256 changed."""

    exit_code = 1
