"""Exception types raised by the parity package (evaluators, runtimes, comparison); other modules add theirs here."""


class CoreMLSpecError(ValueError):
    """A Core ML spec is malformed, truncated, violates Apple's validator rules, or uses an unsupported feature."""


class EvaluatorInputError(ValueError):
    """Inputs handed to an evaluator do not match the model's description (missing name, wrong width/type)."""


class ArtifactError(ValueError):
    """An artifact handed to the parity suite cannot be opened or lacks what parity needs (roles, outputs)."""


class DataFileError(ValueError):
    """A user data file for parity probes is missing, malformed, or does not match the model's features."""


class ParityInputError(ValueError):
    """Arguments to parity.check are inconsistent (no artifacts, unknown contract, wrong feature count)."""
