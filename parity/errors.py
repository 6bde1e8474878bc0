"""The one exceptions module of the parity package (evaluators, runtimes, comparison, data files).

Every error parity raises on purpose derives from `ParityError`, so a caller (mlexport's CLI) can tell "parity
refused this input" from a bug. parity never imports `export`, so this family is separate from export's
`MlexportError`; the CLI maps both to exit 2. Each subclass also keeps its historical builtin base (`ValueError`,
`RuntimeError`) so code that caught those keeps working.
"""


class ParityError(Exception):
    """Base of every error the parity package raises on purpose (bad artifact, spec, data or arguments)."""


class CoreMLSpecError(ParityError, ValueError):
    """A Core ML spec is malformed, truncated, violates Apple's validator rules, or uses an unsupported feature."""


class EvaluatorInputError(ParityError, ValueError):
    """Inputs handed to an evaluator do not match the model's description (missing name, wrong width/type)."""


class ArtifactError(ParityError, ValueError):
    """An artifact handed to the parity suite cannot be opened or lacks what parity needs (roles, outputs)."""


class DataFileError(ParityError, ValueError):
    """A user data file for parity probes is missing, malformed, or does not match the model's features."""


class ParityInputError(ParityError, ValueError):
    """Arguments to parity.check are inconsistent (no artifacts, unknown contract, wrong feature count)."""


class RuntimeUnavailableError(ParityError, RuntimeError):
    """A runtime parity was asked to use is not available here (native Core ML off macOS)."""
