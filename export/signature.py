"""Model signature: what the exported model takes and gives — inputs, task, class labels, and the input-dtype contract.

Computed once from the fitted estimator (plus user overrides) and shared by the writers, the manifest and parity.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from export.errors import NotFittedError, UsageError

InputDtype = Literal["float32", "float64"]
BOOL_LABEL_ENCODING = "Int64 labels for boolean classes: 0 = False, 1 = True"
INPUT_DTYPES: tuple[str, ...] = ("float32", "float64")

# Output names taken by the exported models; an input may not reuse them (Core ML feature names share one namespace).
RESERVED_NAMES = frozenset({"classLabel", "classProbability", "prediction", "transformed_features", "input",
                            "__feature_vector__"})

# Swift keywords Xcode escapes with a trailing underscore in generated model classes (coreml-semantics §4.3).
_SWIFT_KEYWORDS = frozenset((
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
    "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows", "static",
    "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do", "else",
    "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any", "as",
    "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "Type", "Protocol",
    "Class",  # observed in Xcode-generated model classes (coreml-semantics §4.3), presumably a clash with its own names
))


@dataclass(frozen=True)
class Signature:
    """The exported model's interface."""

    n_features: int
    feature_names: tuple[str, ...] | None  # as trained (feature_names_in_) or given by the user
    coreml_input_names: tuple[str, ...] | None  # sanitised for Swift/Xcode; None -> one MultiArray input
    task: Literal["classifier", "regressor", "transformer"]
    class_labels: tuple[Any, ...] | None
    n_outputs: int  # classes for classifiers, targets for regressors, columns for transformers
    input_dtype: InputDtype
    input_dtype_reason: str

    @property
    def exported_class_labels(self) -> tuple[Any, ...] | None:
        """The labels the artifacts carry: `class_labels`, except booleans, which become Int64 0 = False, 1 = True.

        Core ML and ONNX classifiers have only Int64 or String labels. Booleans are exported as the integers numpy
        and Python define them to be (`int(True) == 1`): an app tests `classLabel == 1` and reads
        `classProbability[1]` without a spelling to get wrong ("True" in Python, "true" in Swift), and the mapping is
        recorded in the metadata (`mlexport.class_label_encoding`), the label's description, manifest and golden.json.
        """
        if self.class_labels is None or not self.bool_labels:
            return self.class_labels
        return tuple(int(label) for label in self.class_labels)

    @property
    def bool_labels(self) -> bool:
        return self.class_labels is not None and all(isinstance(c, bool) for c in self.class_labels)

    @property
    def class_label_encoding(self) -> str | None:
        """How exported labels map back to the trained ones, when they differ (booleans), else None."""
        return BOOL_LABEL_ENCODING if self.bool_labels else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        exported = self.exported_class_labels
        data["exported_class_labels"] = list(exported) if exported is not None else None
        data["class_label_encoding"] = self.class_label_encoding
        data["input_name_mapping"] = (
            dict(zip(self.feature_names, self.coreml_input_names, strict=True))
            if self.feature_names and self.coreml_input_names else None)
        return data


# Swift's identifier grammar ("The Swift Programming Language", Lexical Structure › Identifiers): the code points an
# identifier may start with, and the extra ones it may continue with. Xcode names the generated Swift property after
# the Core ML feature, so a feature name inside this grammar reaches Swift code unchanged.
_SWIFT_HEAD_RANGES = (
    (0x41, 0x5A), (0x61, 0x7A), (0x5F, 0x5F), (0xA8, 0xA8), (0xAA, 0xAA), (0xAD, 0xAD), (0xAF, 0xAF),
    (0xB2, 0xB5), (0xB7, 0xBA), (0xBC, 0xBE), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0xFF), (0x100, 0x2FF),
    (0x370, 0x167F), (0x1681, 0x180D), (0x180F, 0x1DBF), (0x1E00, 0x1FFF), (0x200B, 0x200D), (0x202A, 0x202E),
    (0x203F, 0x2040), (0x2054, 0x2054), (0x2060, 0x206F), (0x2070, 0x20CF), (0x2100, 0x218F), (0x2460, 0x24FF),
    (0x2776, 0x2793), (0x2C00, 0x2DFF), (0x2E80, 0x2FFF), (0x3004, 0x3007), (0x3021, 0x302F), (0x3031, 0x303F),
    (0x3040, 0xD7FF), (0xF900, 0xFD3D), (0xFD40, 0xFDCF), (0xFDF0, 0xFE1F), (0xFE30, 0xFE44), (0xFE47, 0xFFFD),
    *((plane, plane + 0xFFFD) for plane in range(0x10000, 0xF0000, 0x10000)),
)
_SWIFT_CONTINUE_RANGES = ((0x30, 0x39), (0x300, 0x36F), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))


def _swift_head(char: str) -> bool:
    point = ord(char)
    return any(lo <= point <= hi for lo, hi in _SWIFT_HEAD_RANGES)


def _kept(char: str) -> bool:
    """A character kept in a Core ML input name: a letter, digit or combining mark that Swift's grammar allows.
    Swift's ranges also admit invisible format characters (U+200B, bidi controls); those are not readable names."""
    if not (char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")):
        return False
    point = ord(char)
    return _swift_head(char) or any(lo <= point <= hi for lo, hi in _SWIFT_CONTINUE_RANGES)


def swift_identifier(name: str) -> str:
    """A readable Swift identifier for a feature name, used as its Core ML input name.

    Core ML itself accepts any non-empty, unique feature name (coremltools' InterfaceValidators.cpp,
    `validateFeatureDescription`: "Feature description must have a non-empty name"); Xcode, though, names the
    generated Swift property after it. A name inside Swift's identifier grammar reaches Swift unchanged, so we keep
    Unicode letters and digits ("âge", "収入", "PM2_5"), NFC-normalised, and turn each run of other characters into
    one `_`, dropping it at the ends ("tenure months" -> "tenure_months", "PCOS (Y/N)" -> "PCOS_Y_N"). A name that
    cannot start an identifier gets a `_` prefix ("2nd" -> "_2nd"); Swift keywords a trailing `_` ("Class" -> "Class_").
    """
    text = unicodedata.normalize("NFC", name)
    ident = "".join(c if _kept(c) else " " for c in text)
    ident = re.sub(r" +", "_", ident.strip(" ")) if ident.strip(" ") else ""
    if not ident:
        return "_"
    if not _swift_head(ident[0]) or ident[0].isdigit():
        ident = "_" + ident
    if ident in _SWIFT_KEYWORDS or keyword.iskeyword(ident):
        ident += "_"
    return ident


def coreml_input_names(feature_names: tuple[str, ...]) -> tuple[str, ...]:
    """Unique Swift-safe Core ML input names, in feature order; clashes get `_2`, `_3`, ... suffixes, and a name with
    nothing readable left ("%", "") becomes `feature_<position>`."""
    taken: set[str] = set(RESERVED_NAMES)
    out = []
    for position, name in enumerate(feature_names):
        base = swift_identifier(name)
        if base == "_" and name != "_":
            base = f"feature_{position}"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        out.append(candidate)
    return tuple(out)


def renamed_inputs(signature: Signature) -> dict[str, str]:
    """{training column name: Core ML input name} for the columns whose Core ML name differs."""
    if not signature.feature_names or not signature.coreml_input_names:
        return {}
    return {original: exported for original, exported in
            zip(signature.feature_names, signature.coreml_input_names, strict=True) if original != exported}


def _task_of(estimator: Any) -> Literal["classifier", "regressor", "transformer"]:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "classifier"
    if is_regressor(estimator):
        return "regressor"
    return "transformer"


def check_fitted(estimator: Any) -> None:
    """Raise NotFittedError (one line, naming the estimator) unless `estimator` is fitted."""
    from sklearn.exceptions import NotFittedError as SklearnNotFitted
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except SklearnNotFitted:
        raise NotFittedError(f"{type(estimator).__name__} is not fitted; call fit() before exporting") from None
    except TypeError as exc:
        raise UsageError(f"{type(estimator).__name__} is not a scikit-learn estimator ({exc})") from None


def default_input_dtype(estimator: Any) -> tuple[InputDtype, str]:
    """The dtype contract used when the user does not choose one, and why."""
    return ("float64", "Core ML inputs are Double and scikit-learn's own predict takes float64; "
                       "tree thresholds are snapped so float32-comparing trees stay exact for double inputs")


def _chosen_names(n_features: int, names: tuple[str, ...] | None,
                  feature_names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The model's own feature names, or the user's (`--feature-names`), checked against each other."""
    if feature_names is not None:
        if len(feature_names) != n_features:
            raise UsageError(f"--feature-names gives {len(feature_names)} names; the model takes {n_features} features")
        if len(set(feature_names)) != len(feature_names):
            raise UsageError("--feature-names: names must be unique")
        if any(not n.strip() for n in feature_names):
            raise UsageError("--feature-names: names must be non-empty")
        if names is not None and tuple(feature_names) != names:
            raise UsageError("--feature-names differs from the names the model was trained with "
                             f"({', '.join(names)})")
        names = tuple(feature_names)
    return names


def _chosen_dtype(input_dtype: str | None, default: tuple[InputDtype, str]) -> tuple[InputDtype, str]:
    if input_dtype is None:
        return default
    if input_dtype in INPUT_DTYPES:
        return input_dtype, "chosen by the user (--input-dtype)"  # type: ignore[return-value]
    raise UsageError(f"--input-dtype '{input_dtype}' is not allowed; allowed: {', '.join(INPUT_DTYPES)}")


def _boosted_signature(model: Any, feature_names: tuple[str, ...] | None, input_dtype: str | None) -> Signature:
    from export import ir
    from export.from_boosting import dtype_reason

    forest = model.forest
    names = _chosen_names(model.n_features, model.feature_names, feature_names)
    dtype, reason = _chosen_dtype(input_dtype, ("float64", dtype_reason(model)))
    task = forest.head
    labels = tuple(task.labels.tolist()) if isinstance(task, ir.Classification) else None
    return Signature(
        n_features=model.n_features, feature_names=names,
        coreml_input_names=coreml_input_names(names) if names else None,
        task="classifier" if labels is not None else "regressor", class_labels=labels,
        n_outputs=len(labels) if labels is not None else task.n_targets, input_dtype=dtype, input_dtype_reason=reason)


def signature_of(estimator: Any, *, feature_names: tuple[str, ...] | None = None,
                 input_dtype: str | None = None) -> Signature:
    """Build the signature of a fitted estimator (or a boosting model read from its file). `feature_names`
    overrides `feature_names_in_`."""
    from export.from_boosting import BoostedModel

    if isinstance(estimator, BoostedModel):
        return _boosted_signature(estimator, feature_names, input_dtype)
    check_fitted(estimator)
    n_features = getattr(estimator, "n_features_in_", None)
    trained_names = getattr(estimator, "feature_names_in_", None)
    from export.from_sklearn.text import DEFAULT_TEXT_COLUMN, reads_documents

    if n_features is None and reads_documents(estimator):  # fitted on bare documents: one text column
        n_features, trained_names = 1, None if feature_names is not None else (DEFAULT_TEXT_COLUMN,)
    if not isinstance(n_features, (int, np.integer)):
        raise UsageError(f"{type(estimator).__name__} has no n_features_in_; cannot tell how many inputs it takes")
    names = _chosen_names(int(n_features), tuple(str(n) for n in trained_names) if trained_names is not None else None,
                          feature_names)
    dtype, reason = _chosen_dtype(input_dtype, default_input_dtype(estimator))
    task = _task_of(estimator)
    labels: tuple[Any, ...] | None = None
    if task == "classifier":
        classes = np.asarray(estimator.classes_)
        if classes.ndim != 1:
            raise UsageError(f"{type(estimator).__name__} is multi-output; only single-output classifiers export")
        labels = tuple(c.item() if isinstance(c, np.generic) else c for c in classes.tolist())
        n_outputs = len(labels)
    elif task == "regressor":
        n_outputs = int(getattr(estimator, "n_outputs_", 1) or 1)
    else:
        n_outputs = len(estimator.get_feature_names_out()) if hasattr(estimator, "get_feature_names_out") else 0
    return Signature(
        n_features=int(n_features),
        feature_names=names,
        coreml_input_names=coreml_input_names(names) if names else None,
        task=task,
        class_labels=labels,
        n_outputs=n_outputs,
        input_dtype=dtype,
        input_dtype_reason=reason,
    )
