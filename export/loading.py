"""Safe model loading: the first step of the flow (model file -> fitted scikit-learn estimator).

`.skops` is the default input, loaded against a reviewed, minimal allowlist of scikit-learn internals. Pickle files
(`.pkl`, `.pickle`, `.joblib`) execute code when loaded, so they are refused unless the caller vouches for the
exact file with its SHA-256. We never fall back from skops to pickle (that was CVE-2025-54886).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import InputFileError, UntrustedModelError, describe_exception
from export.path_checks import existing_file
from parity import sha256_file  # one streamed SHA-256 for both packages
from parity.sub_estimators import walk

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
# Suffixes the boosting libraries' save_model writes; the content decides (export/from_boosting sniff).
BOOSTING_SUFFIXES = {".json": "XGBoost JSON", ".ubj": "XGBoost UBJSON", ".txt": "LightGBM text", ".cbm": "CatBoost"}

# Types skops does not trust by default, reviewed for mlexport. The tree and neighbour types store raw indices that
# scikit-learn follows without bounds checks, so after loading we check every index ourselves
# (`check_internal_indices`) before any prediction runs. Anything else (`__main__.*`, custom functions, unknown
# classes) is refused.
REVIEWED_SKOPS_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.EuclideanDistance32",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "numpy.dtype",  # a dtype descriptor (SimpleImputer._fit_dtype); constructing one runs no user code
    # ColumnTransformer keeps the make_column_selector it was given in `transformers`; skops rebuilds it as a plain
    # object (__new__ + its three attributes pattern / dtype_include / dtype_exclude), no code runs. Its __call__
    # (DataFrame.select_dtypes + a regex on column names) runs only in fit: transform reads the columns resolved at
    # fit (`transformers_`), so mlexport never calls it.
    "sklearn.compose._column_transformer.make_column_selector",
    # The type objects make_column_selector's dtype_include / dtype_exclude are commonly given (np.number, object):
    # loaded by name as classes, never instantiated from the file.
    "numpy.number",
    "builtins.object",
    # Reviewed for the meta-estimators (issue 14): plain containers rebuilt from their state, no __setstate__ or
    # __reduce__ of their own, no code run on load. Bunch: the dict subclass of named_estimators_ (Voting*,
    # Stacking*); _CalibratedClassifier: CalibratedClassifierCV's per-fold holder of estimator, calibrators,
    # classes, method; _SigmoidCalibration: a BaseEstimator with two floats a_, b_.
    "sklearn.utils._bunch.Bunch",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
)

# The boosting libraries' sklearn-API wrappers (as a Pipeline's final step) and the Boosters they hold (reviewed for
# issue 12). skops rebuilds them with their own __setstate__, which hands the embedded model to the library's C++
# loader: XGBoost's Booster the serialised buffer (UBJSON {"Config", "Model"}, XGBoosterUnserializeFromBuffer),
# LightGBM's Booster the text model (`_handle`, LGBM_BoosterLoadModelFromString), CatBoost's wrappers the .cbm bytes
# (`__model`). Before skops constructs anything, `_check_boosting_payloads` reads each of those payloads from the
# archive and validates it with our own readers (export/from_boosting), as for the libraries' own files.
# collections.OrderedDict: LightGBM's wrapper state holds one (a plain dict subclass; constructing it runs no code).
BOOSTING_SKOPS_TYPES: tuple[str, ...] = (
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "xgboost.core.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.basic.Booster",
    "collections.OrderedDict",
    "catboost.core.CatBoostClassifier",
    "catboost.core.CatBoostRegressor",
)

# Allowed only where HistGradientBoosting* puts them: its `_preprocessor` (a ColumnTransformer for categorical
# features) validates the numeric columns with FunctionTransformer(partial(check_array, dtype=[float64],
# ensure_all_finite=False)) (sklearn/ensemble/_hist_gradient_boosting/gradient_boosting.py). skops' PartialNode
# rebuilds partial(func, *args, **kwds) from children checked against the same trusted list, so trusting both
# globally would let a file wrap check_array (a pure validator) with any arguments anywhere. We trust them only after
# reading schema.json: every partial must be exactly that one, inside a `_preprocessor`, and check_array may appear
# only as its func (`_check_hgb_preprocessor_schema`), and after loading the object must be that partial again.
HGB_PREPROCESSOR_TYPES: tuple[str, ...] = ("functools.partial", "sklearn.utils.validation.check_array")
_HGB_PARTIAL_KEYWORDS = ("dtype", "ensure_all_finite")

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class TrainingVersions:
    """The library versions a model file was saved with, as the file records them (scikit-learn writes
    `_sklearn_version` into every estimator's state, `BaseEstimator.__getstate__`), against the running ones."""

    # {"scikit-learn": "1.5.0"}; several versions in one file are joined with ", "; None: the file records none
    # (LightGBM's text model has only its format version, `version=v4`), so nothing can be compared
    trained: dict[str, str | None]
    running: dict[str, str]
    estimators: tuple[str, ...] = ()  # estimator classes whose recorded version differs from the running one

    @property
    def mismatch(self) -> str | None:
        """A one-line statement of the mismatch, or None when the file was saved by the running versions."""
        differing = [lib for lib, version in self.trained.items()
                     if version is not None and version != self.running.get(lib)]
        if not differing:
            return None
        said = "; ".join(f"{lib} {self.trained[lib]}, this machine runs {self.running.get(lib)}" for lib in differing)
        which = f" ({', '.join(self.estimators)})" if self.estimators else ""
        return (f"the model was saved by {said}{which}: predictions may differ across versions, and parity compares "
                "the artifacts with this machine's library, not the training one")

    def to_json(self) -> dict[str, Any]:
        return {"trained": dict(self.trained), "running": dict(self.running), "mismatch": self.mismatch}


def load_model(path: str | Path, *, trust_pickle: str | None = None) -> Any:
    """Load a fitted estimator from `path`, safely: a scikit-learn estimator, or an
    `export.from_boosting.BoostedModel` for the boosting libraries' own files (recognised by content, whatever the
    suffix). Raises InputFileError / UntrustedModelError with one-line messages naming the file and what is allowed."""
    return load_model_with_versions(path, trust_pickle=trust_pickle)[0]


def load_model_with_versions(path: str | Path, *, trust_pickle: str | None = None) -> tuple[Any, TrainingVersions]:
    """`load_model`, plus the versions the file was saved with. scikit-learn pops `_sklearn_version` while
    unpickling (`BaseEstimator.__setstate__`, for skops too) and warns `InconsistentVersionWarning` naming the
    estimator and the saved version when it differs: those warnings are the record. No warning means every
    estimator in the file was saved by the running version."""
    import warnings

    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    path = existing_file(path, "model file")
    boosted = _load_boosting(path)
    if boosted is not None:  # the libraries' own files record their own version (export/from_boosting)
        return boosted, TrainingVersions(trained={boosted.library: boosted.trained_version},
                                         running={boosted.library: str(boosted.library_version)})
    embedded: dict[str, str | None] = {}  # boosting models inside a .skops file: the versions they record
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        estimator = _load_checked(path, trust_pickle, embedded)
    saved: dict[str, set[str]] = {}
    for warning in caught:
        message = warning.message
        if isinstance(message, InconsistentVersionWarning):
            saved.setdefault(str(message.original_sklearn_version), set()).add(str(message.estimator_name))
        else:  # not ours to swallow
            warnings.warn_explicit(message, warning.category, warning.filename, warning.lineno)
    running = str(sklearn.__version__)
    trained = ", ".join(sorted(saved)) if saved else running
    versions = TrainingVersions(trained={"scikit-learn": trained, **embedded},
                                running={"scikit-learn": running, **_running_versions(embedded)},
                                estimators=tuple(sorted(set().union(*saved.values()))) if saved else ())
    return estimator, versions


def _load_boosting(path: Path) -> Any:
    """A BoostedModel when the file's content is a boosting library's model (whatever its suffix, but never for the
    skops/pickle suffixes), else None; a boosting suffix whose content is none of them is refused here."""
    from export import from_boosting

    suffix = path.suffix.lower()
    if suffix in SKOPS_SUFFIXES + PICKLE_SUFFIXES:
        return None
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise InputFileError(f"model file '{path}' cannot be read ({exc.strerror})") from None
    kind = from_boosting.sniff(head)
    if kind is not None:
        return from_boosting.load_file(path, kind)
    if suffix in BOOSTING_SUFFIXES:
        raise InputFileError(f"model file '{path}' is not a {BOOSTING_SUFFIXES[suffix]} model (its content is none of "
                             f"the boosting formats); allowed: {from_boosting.DESCRIPTION}")
    return None


def _running_versions(libraries: dict[str, str | None]) -> dict[str, str]:
    import importlib

    return {library: str(importlib.import_module(library).__version__) for library in libraries}


def _load_checked(path: Path, trust_pickle: str | None, embedded: dict[str, str | None] | None = None) -> Any:
    suffix = path.suffix.lower()
    if suffix in SKOPS_SUFFIXES:
        estimator = _load_skops(path, embedded if embedded is not None else {})
    elif suffix in PICKLE_SUFFIXES:
        estimator = _load_trusted_pickle(path, trust_pickle)
    else:
        allowed = ", ".join(SKOPS_SUFFIXES + PICKLE_SUFFIXES + tuple(BOOSTING_SUFFIXES))
        raise InputFileError(f"model file '{path}': unknown kind '{suffix or '(no suffix)'}'; allowed: {allowed} "
                             "(pickle kinds only with --trust-pickle SHA256; boosting files are recognised by "
                             "content)")
    if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
        raise InputFileError(f"model file '{path}' holds a {type(estimator).__name__}, not a scikit-learn estimator")
    check_internal_indices(estimator, source=str(path))
    return estimator


def _load_skops(path: Path, embedded: dict[str, str | None]) -> Any:
    """The estimator; `embedded` receives the training version each embedded boosting model records."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError, OSError, ValueError) as exc:
        raise InputFileError(f"model file '{path}' is not a readable .skops file ({describe_exception(exc)})") from None
    refused = sorted(t for t in untrusted if t not in REVIEWED_SKOPS_TYPES + HGB_PREPROCESSOR_TYPES
                     + BOOSTING_SKOPS_TYPES)
    if refused:
        raise UntrustedModelError(
            f"model file '{path}' contains types mlexport does not load: {', '.join(refused)}; "
            f"allowed beyond skops' defaults: {', '.join(REVIEWED_SKOPS_TYPES + BOOSTING_SKOPS_TYPES)}")
    if any(t in HGB_PREPROCESSOR_TYPES for t in untrusted):
        _check_hgb_preprocessor_schema(path)
    if any(t in BOOSTING_SKOPS_TYPES for t in untrusted):
        embedded.update(_check_boosting_payloads(path))
    try:
        estimator = sio.load(path, trusted=list(untrusted))
    except Exception as exc:  # skops raises many kinds on corrupt content; none may escape as a traceback
        raise InputFileError(f"model file '{path}' could not be loaded by skops ({describe_exception(exc)})") from None
    if any(t in HGB_PREPROCESSOR_TYPES for t in untrusted):
        _check_hgb_preprocessor_objects(estimator, path)
    return estimator


def _check_boosting_payloads(path: Path) -> dict[str, str | None]:
    """Every boosting model embedded in the .skops archive passes our own reader before skops hands it to the
    library's loader (see BOOSTING_SKOPS_TYPES): a truncated or edited payload is a one-line error, never a crash
    inside the library's C++. Returns the training version each records ({library: version}; None: LightGBM's
    text model records none) — the library re-serialises with its running version once loaded."""
    from export import from_boosting
    from export.from_boosting import ubjson

    versions: dict[str, str | None] = {}

    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))

        def payload(node: Any, key: str) -> bytes | str | None:
            content = node.get("content", {}).get("content", {}) if isinstance(node.get("content"), dict) else {}
            item = content.get(key)
            if not isinstance(item, dict) or item.get("__class__") == "NoneType":
                return None
            if "file" in item:
                return archive.read(str(item["file"]))
            text = item.get("content")
            return json.loads(text) if isinstance(text, str) and item.get("is_json") else text

        for node, where in _schema_nodes(schema):
            kind = f"{node.get('__module__')}.{node.get('__class__')}"
            source = f"{path}:{where or '/'}"
            if kind == "xgboost.core.Booster" and isinstance(buffer := payload(node, "handle"), bytes):
                try:  # XGBoosterSerializeToBuffer: UBJSON {"Config": ..., "Model": the model document}
                    document = ubjson.loads(buffer).get("Model")
                except (ValueError, AttributeError, RecursionError) as exc:
                    raise InputFileError(f"model file '{source}': the XGBoost Booster is not readable "
                                         f"({describe_exception(exc)})") from None
                from_boosting.check_xgboost_document(document, source)
                recorded = document.get("version")
                versions["xgboost"] = (".".join(str(v) for v in list(recorded))
                                       if isinstance(recorded, (list, tuple)) or hasattr(recorded, "tolist") else None)
            elif kind == "lightgbm.basic.Booster":
                text = payload(node, "_handle") or payload(node, "handle")
                if text is not None:
                    from_boosting.check_lightgbm_text(text, source)
                    versions["lightgbm"] = None
            elif kind in ("catboost.core.CatBoostClassifier", "catboost.core.CatBoostRegressor"):
                model = payload(node, "__model")
                if model is not None:
                    versions["catboost"] = from_boosting.load_bytes(
                        bytes(model) if isinstance(model, bytes) else b"", "catboost-cbm", source).trained_version
    return versions


def _schema_nodes(node: Any, where: str = "") -> Iterator[tuple[dict[str, Any], str]]:
    """Every object node of a skops schema.json with its path (`/attr`, `[i]`), parents before children — one walk
    for the checks that read the schema before anything is constructed."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _schema_nodes(item, f"{where}[{i}]")
    elif isinstance(node, dict):
        yield node, where
        for key, value in node.items():
            yield from _schema_nodes(value, f"{where}/{key}")


def _hgb_schema_refusal(path: Path, where: str, what: str) -> UntrustedModelError:
    return UntrustedModelError(
        f"model file '{path}' uses {', '.join(HGB_PREPROCESSOR_TYPES)} at {where or '/'} ({what}); allowed only as "
        "HistGradientBoosting's numeric-column validator partial(check_array, dtype=[float64], "
        "ensure_all_finite=False) inside its _preprocessor")


def _check_hgb_preprocessor_schema(path: Path) -> None:
    """Before anything is constructed: every `functools.partial` node in schema.json is
    partial(sklearn.utils.validation.check_array, <no args>, dtype=..., ensure_all_finite=...) under a
    `_preprocessor` attribute, and `check_array` appears nowhere else."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    allowed_functions: set[int] = set()

    def is_check_array(node: Any) -> bool:
        return isinstance(node, dict) and node.get("__module__") == "sklearn.utils.validation" and node.get(
            "__class__") == "check_array" and node.get("__loader__") == "FunctionNode"

    for node, where in _schema_nodes(schema):
        module, cls = node.get("__module__"), node.get("__class__")
        if (module, cls) == ("functools", "partial"):
            content = node.get("content")
            if "/_preprocessor/" not in f"{where}/" or not isinstance(content, dict):
                raise _hgb_schema_refusal(path, where, "a partial outside HistGradientBoosting's _preprocessor")
            args, kwds = content.get("args"), content.get("kwds")
            if not is_check_array(content.get("func")):
                raise _hgb_schema_refusal(path, where, "a partial of another function")
            if not (isinstance(args, dict) and args.get("content") == []):
                raise _hgb_schema_refusal(path, where, "a partial with positional arguments")
            if not (isinstance(kwds, dict) and isinstance(kwds.get("content"), dict)
                    and sorted(kwds["content"]) == sorted(_HGB_PARTIAL_KEYWORDS)):
                raise _hgb_schema_refusal(path, where, "a partial with other keyword arguments")
            allowed_functions.add(id(content["func"]))
        elif is_check_array(node) and id(node) not in allowed_functions:
            raise _hgb_schema_refusal(path, where, "check_array outside that partial")


def _check_hgb_preprocessor_objects(estimator: Any, path: Path) -> None:
    """After loading: each HistGradientBoosting `_preprocessor`'s numeric FunctionTransformer holds exactly
    partial(check_array, dtype=[np.float64], ensure_all_finite=False)."""
    import functools

    from sklearn.utils.validation import check_array

    found = False
    stack, seen = [estimator], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        pre = getattr(obj, "_preprocessor", None)
        if pre is not None:
            for transformer in [t for _, t, _ in getattr(pre, "transformers_", [])]:
                func = getattr(transformer, "func", None)
                if isinstance(func, functools.partial):
                    if not (func.func is check_array and func.args == () and set(func.keywords) == set(
                            _HGB_PARTIAL_KEYWORDS) and func.keywords["ensure_all_finite"] is False
                            and list(func.keywords["dtype"]) == [np.float64]):
                        raise _hgb_schema_refusal(path, "_preprocessor", f"found {func!r}")
                    found = True
        for attr in ("steps", "estimators_", "estimator", "transformers_"):
            value = getattr(obj, attr, None)
            if isinstance(value, (list, tuple)):
                stack.extend(item[1] if isinstance(item, tuple) else item for item in value)
            elif value is not None and hasattr(value, "get_params"):
                stack.append(value)
    if not found:
        raise _hgb_schema_refusal(path, "", "no HistGradientBoosting _preprocessor holds it")


def _load_trusted_pickle(path: Path, trust_pickle: str | None) -> Any:
    if trust_pickle is None:
        raise UntrustedModelError(
            f"model file '{path}' is a pickle, which runs code when loaded; re-save it with skops "
            f"(skops.io.dump) or pass --trust-pickle {sha256_file(path)} if you trust this exact file")
    if not _SHA256.match(trust_pickle):
        raise UntrustedModelError(f"--trust-pickle must be a 64-hex-digit SHA-256, got '{trust_pickle}'")
    actual = sha256_file(path)
    if actual.lower() != trust_pickle.lower():
        raise UntrustedModelError(f"model file '{path}' has SHA-256 {actual}, not the trusted {trust_pickle.lower()}")
    try:
        if path.suffix.lower() == ".joblib":
            import joblib

            return joblib.load(path)
        import pickle

        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception as exc:
        raise InputFileError(f"model file '{path}' could not be unpickled ({describe_exception(exc)})") from None


# ----------------------------------------------------------------------------------------------------------------
# Bounds checks for the reviewed internals: scikit-learn indexes these arrays without checking, so a crafted file
# could crash the process or read out of bounds at predict time. We check before anything predicts.


def check_internal_indices(estimator: Any, source: str) -> None:
    """Check the raw indices of every tree / KD-tree held by `estimator` or any estimator nested in it (pipeline
    steps, ensemble members, stacking's `final_estimator_`, calibrated members, ...: `parity.sub_estimators.walk`
    reaches every one)."""
    for member in walk(estimator):
        obj = member.estimator
        where = _Where(source, member.path)
        tree = getattr(obj, "tree_", None)
        if tree is not None and type(tree).__name__ == "Tree":
            _check_sklearn_tree(tree, getattr(obj, "n_features_in_", None), where)
        for predictors in getattr(obj, "_predictors", None) or []:
            for predictor in predictors:
                _check_tree_predictor(predictor, getattr(obj, "n_features_in_", None), where)
        fit_tree = getattr(obj, "_tree", None)
        if fit_tree is not None and type(fit_tree).__name__ in ("KDTree", "BallTree"):
            _check_binary_tree(fit_tree, where)


@dataclass(frozen=True)
class _Where:
    source: str  # the model file
    path: str  # attribute path of the estimator holding the bad index ("" for the loaded estimator itself)


def _corrupt(where: _Where, what: str) -> InputFileError:
    inside = f" (in {where.path})" if where.path else ""
    return InputFileError(f"model file '{where.source}' is corrupt: {what}{inside}")


def _check_sklearn_tree(tree: Any, n_features: int | None, where: _Where) -> None:
    n = int(tree.node_count)
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    if left.shape != (n,) or right.shape != (n,) or tree.value.shape[0] != n:
        raise _corrupt(where, "tree arrays do not match node_count")
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise _corrupt(where, "a tree node has exactly one child")
    branch = ~leaf
    idx = np.arange(n)
    # scikit-learn builds trees depth first: every child has a larger index than its parent, so a check of
    # `parent < child < n` also rules out cycles.
    bad_left = (left[branch] <= idx[branch]) | (left[branch] >= n)
    bad_right = (right[branch] <= idx[branch]) | (right[branch] >= n)
    if np.any(bad_left | bad_right):
        raise _corrupt(where, "a tree child index is out of range")
    limit = n_features if n_features is not None else np.iinfo(np.int64).max
    if np.any((feature[branch] < 0) | (feature[branch] >= limit)):
        raise _corrupt(where, "a tree feature index is out of range")


def _check_tree_predictor(predictor: Any, n_features: int | None, where: _Where) -> None:
    nodes = predictor.nodes
    n = nodes.shape[0]
    branch = nodes["is_leaf"] == 0
    idx = np.arange(n)
    for side in ("left", "right"):
        child = nodes[side].astype(np.int64)
        if np.any((child[branch] <= idx[branch]) | (child[branch] >= n)):
            raise _corrupt(where, "a HistGradientBoosting node index is out of range")
    features = nodes["feature_idx"].astype(np.int64)
    limit = n_features if n_features is not None else np.iinfo(np.int64).max
    if np.any((features[branch] < 0) | (features[branch] >= limit)):
        raise _corrupt(where, "a HistGradientBoosting feature index is out of range")
    n_bitsets = predictor.raw_left_cat_bitsets.shape[0]
    categorical = branch & (nodes["is_categorical"] != 0)
    if np.any(nodes["bitset_idx"][categorical] >= n_bitsets):
        raise _corrupt(where, "a HistGradientBoosting category bitset index is out of range")


def _check_binary_tree(tree: Any, where: _Where) -> None:
    data, idx_array, node_data = tree.get_arrays()[:3]
    n = data.shape[0]
    if idx_array.shape != (n,) or not np.array_equal(np.sort(idx_array), np.arange(n)):
        raise _corrupt(where, "neighbour index is not a permutation of the training rows")
    start, end = node_data["idx_start"], node_data["idx_end"]
    if np.any((start < 0) | (end > n) | (start > end)):
        raise _corrupt(where, "neighbour tree node bounds are out of range")


# ----------------------------------------------------------------------------------------------------------------
# Writing: a byte-reproducible .skops (skops names array files after object ids and stamps zip times).


def dump_skops(estimator: Any, path: Path) -> None:
    """Save `estimator` as .skops with deterministic bytes: array files renamed in schema order, fixed zip times."""
    import skops.io as sio

    original = zipfile.ZipFile(io.BytesIO(sio.dumps(estimator)))
    schema = json.loads(original.read("schema.json"))
    renames: dict[str, str] = {}
    object_ids: dict[int, int] = {}  # skops memoises shared objects by id(); renumber them in walk order

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: rename(value) for key, value in node.items()}
            if isinstance(out.get("__id__"), int):
                out["__id__"] = object_ids.setdefault(out["__id__"], len(object_ids) + 1)
            name = out.get("file")
            if isinstance(name, str) and name in original.namelist():
                out["file"] = renames.setdefault(name, f"{len(renames):06d}{Path(name).suffix}")
            return out
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    schema = rename(schema)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        entries = [("schema.json", json.dumps(schema, sort_keys=True, indent=None).encode())]
        entries += sorted((new, original.read(old)) for old, new in renames.items())
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, payload)
    path.write_bytes(buffer.getvalue())
