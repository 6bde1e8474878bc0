"""Boosting-library front-end: XGBoost, LightGBM and CatBoost models from their own safe model files (never pickle)
or as the in-memory sklearn-API wrappers, read into one normalised form (`forest.BoostedForest`) and lowered to the
IR by `forest.to_tree_ensemble`.

Each library has one self-contained reader (`xgboost_model`, `lightgbm_model`, `catboost_model`) that validates
the file's structure before the library's own loader sees it; the library itself is loaded only to be the parity
reference (`parity.references`).
"""

from __future__ import annotations

import importlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from export import ir
from export.errors import InputFileError, UnsupportedEstimatorError, UsageError, describe_exception
from export.from_boosting.forest import BoostedForest, forest_inputs, to_ir, to_tree_ensemble

Library = Literal["xgboost", "lightgbm", "catboost"]
FileKind = Literal["xgboost-json", "xgboost-ubj", "lightgbm-text", "catboost-cbm"]

# The import name, the pip extra and the distribution that provides each library.
EXTRAS: dict[Library, str] = {"xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost"}
KINDS: dict[FileKind, Library] = {"xgboost-json": "xgboost", "xgboost-ubj": "xgboost", "lightgbm-text": "lightgbm",
                                  "catboost-cbm": "catboost"}
SUFFIXES: dict[FileKind, str] = {"xgboost-json": ".json", "xgboost-ubj": ".ubj", "lightgbm-text": ".txt",
                                 "catboost-cbm": ".cbm"}
DESCRIPTION = ("XGBoost .json/.ubj (save_model), LightGBM text model (save_model .txt), CatBoost .cbm "
               "(save_model)")
MAX_MODEL_BYTES = 1 << 31


def require_library(library: Library) -> Any:
    """Import a boosting library or say, in one line, how to install it."""
    try:
        return importlib.import_module(library)
    except ImportError:
        raise UsageError(f"reading {library} models needs the {library} package: pip install "
                         f"'mlexport[{EXTRAS[library]}]'") from None


@dataclass
class BoostedModel:
    """A boosting model read from its own file: the normalised forest (what we export) and the library's own model
    object loaded from the same bytes (the parity reference). `payload` is the model file copied into the export."""

    forest: BoostedForest
    native: Any
    payload: bytes
    kind: FileKind
    library_version: str
    source: str
    # The library version the file records: XGBoost's top-level "version" [major, minor, patch], CatBoost's
    # model_info.catboost_version_info ("CatBoost release 1.2.10"); None for LightGBM, whose text model records
    # only its format version (`version=v4`).
    trained_version: str | None = None
    # CatBoost categorical features (catboost_categorical.CatBoostCategories): the inputs are then the model's
    # columns in flat order (strings for the categorical ones), `input_names`, and the forest reads the float
    # columns followed by a string lookup built from the user's rows (`to_ir(..., rows=)`).
    categories: Any = None
    input_names: tuple[str, ...] | None = None
    # XGBoost's call-time `missing` (DMatrix(missing=), the wrappers' `missing` parameter): not in the file, so
    # given by the user (--missing) or read from an in-memory wrapper; NaN is always missing as well.
    missing: float = float("nan")
    _reference: Any = field(default=None, repr=False)

    @property
    def library(self) -> Library:
        return KINDS[self.kind]

    @property
    def suffix(self) -> str:
        return SUFFIXES[self.kind]

    @property
    def n_features(self) -> int:
        """The number of input columns."""
        return len(self.input_names) if self.categories is not None and self.input_names else self.forest.n_features

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        return self.input_names if self.categories is not None else self.forest.feature_names

    @property
    def string_columns(self) -> tuple[str, ...]:
        """The input columns an app feeds as strings (CatBoost categorical features)."""
        if self.categories is None or self.input_names is None:
            return ()
        return tuple(self.input_names[j] for j in self.categories.cat_columns)

    def inputs(self, feature_names: tuple[str, ...] | None = None) -> ir.Schema:
        """The artifact's inputs (what `to_ir` will read)."""
        if self.categories is None:
            return forest_inputs(self.forest, feature_names)
        from export.signature import coreml_input_names

        names = feature_names or self.input_names
        assert names is not None
        strings = set(self.categories.cat_columns)
        return ir.Schema(tuple(ir.Column(n, "string" if j in strings else "double", i,
                                         missing="refused" if j in strings else "nan")
                               for j, (n, i) in enumerate(zip(names, coreml_input_names(tuple(names)), strict=True))))

    @property
    def description(self) -> str:
        return f"{self.library} {self.forest.objective} ({self.forest.n_trees} trees)"

    def to_ir(self, feature_names: tuple[str, ...] | None = None, rows: Any = None,
              input_dtype: str = "float64") -> ir.Model:
        """The IR model. A CatBoost model with categorical features needs `rows` (a DataFrame holding the
        categorical columns): the model stores only hashes of its categories, so the strings the artifact looks
        up are those of the rows, hashed by CatBoost itself (catboost_categorical). An XGBoost `missing` value
        becomes an Imputer (value -> NaN) before the trees (`missing_imputer`)."""
        if self.categories is None:
            imputer = missing_imputer(self.forest, self.missing, input_dtype, self.source)
            if imputer is None:
                return to_ir(self.forest, feature_names)
            schema = forest_inputs(self.forest, feature_names)
            return ir.Model(inputs=schema, head=self.forest.head, body=(
                ir.Step("missing", imputer, schema.names),
                ir.Step("scores", to_tree_ensemble(self.forest), ("missing",))))
        from export.from_boosting.catboost_categorical import catboost_hashes

        schema = self.inputs(feature_names)
        own = self.input_names or schema.names
        used = [own[c.column] for c in self.categories.used]
        if rows is None:
            raise UsageError(f"model file '{self.source}': CatBoost stores only hashes of the categories of "
                             f"{', '.join(repr(n) for n in self.string_columns)}; give --data rows holding every "
                             "training category (mlexport hashes their strings with CatBoost itself)")
        hashes = catboost_hashes(self.native, used, rows.set_axis(list(own), axis=1), own) if used else {}
        floats = [schema.names[j] for j in range(len(own)) if j not in set(self.categories.cat_columns)]
        body: list[ir.Step] = []
        if used:
            lookup = self.categories.lookup(hashes, self.source)
            body.append(ir.Step("catboost:categories", lookup,
                                tuple(schema.names[c.column] for c in self.categories.used)))
        reads = (*floats, *(["catboost:categories"] if used else []))
        body.append(ir.Step("scores", to_tree_ensemble(self.forest), reads))
        return ir.Model(inputs=schema, body=tuple(body), head=self.forest.head)

    def reference(self) -> Any:
        """The parity reference adapter: the library predicting on its own model object."""
        if self._reference is None:
            from parity.references import reference_for

            labels = self.forest.head.labels if isinstance(self.forest.head, ir.Classification) else None
            self._reference = reference_for(self.native, feature_names=self.feature_names, labels=labels,
                                            missing=self.missing)
        return self._reference


def set_missing(model: BoostedModel, missing: float) -> None:
    """The user's `missing` (--missing) for an XGBoost model; an in-memory wrapper's own parameter must agree."""
    import math

    if model.library != "xgboost" and not math.isnan(missing):
        raise UsageError(f"model file '{model.source}': --missing is XGBoost's call-time missing value; a "
                         f"{model.library} model routes missing values (NaN) as its file says")
    own = model.missing
    if not math.isnan(own) and not (own == missing or (math.isnan(own) and math.isnan(missing))):
        raise UsageError(f"--missing {missing!r} differs from the wrapper's own missing={own!r}")
    model.missing = float(missing)
    model._reference = None


def missing_imputer(forest: BoostedForest, missing: float, input_dtype: str, source: str,
                    in_pipeline: bool = False) -> ir.Imputer | None:
    """XGBoost's call-time `missing` value as an Imputer turning it into NaN (which every node routes to its
    default child), or None for NaN (the default). XGBoost compares float32(x) == float32(missing)
    (`data::IsValidFunctor` on the float32 DMatrix entry), so every double rounding to float32(missing) is missing
    to it; the Imputer tests one value exactly. That is exact under the float32 contract (the app feeds float32
    values: the Imputer tests float32(missing)), and under float64 when no split routes float32(missing) away
    from its default child (then those doubles route as missing values do anyway); otherwise it is refused."""
    import math

    if math.isnan(missing):
        return None
    if forest.library != "xgboost":
        raise UsageError(f"model file '{source}': --missing is XGBoost's call-time missing value; a {forest.library} "
                         "model routes missing values (NaN) as its file says")
    if not math.isfinite(missing):
        raise UsageError(f"--missing {missing}: allowed: a finite number, or nan (the default)")
    from export.from_boosting.forest import missing_value_conflicts

    conflicts = missing_value_conflicts(forest, missing)
    if input_dtype == "float64" and conflicts.size:
        advice = ("inside a Pipeline the earlier steps compute in double, so no float32 contract can help: train "
                  "with missing=nan" if in_pipeline else "export with --input-dtype float32 (the app feeds float32 "
                  "values)")
        raise UsageError(
            f"model file '{source}': XGBoost treats every input whose float32 rounding is float32({missing!r}) as "
            f"missing, and {conflicts.size} splits send that value elsewhere when it is a number; the artifact can "
            f"test only one value exactly, so the float64 contract is refused: {advice}")
    value = float(np.float32(missing)) if input_dtype == "float32" else float(missing)
    return ir.Imputer(missing_value=value, fill=np.full(forest.n_features, np.nan))


# ----------------------------------------------------------------------------------------------------------------
# Detecting a file by its content


def sniff(head: bytes) -> FileKind | None:
    """The boosting file kind of a file starting with `head`, or None when it is none of them."""
    if head.startswith(b"CBM1"):
        return "catboost-cbm"  # catboost/libs/model/model.cpp: the flatbuffers model starts with the "CBM1" magic
    if head.startswith((b"tree\n", b"tree\r\n")):
        return "lightgbm-text"  # gbdt_model_text.cpp SaveModelToString: first line "tree"
    if head.startswith(b"{"):
        # UBJSON objects start with '{' then a key length marker (i/U/I/l/L); JSON with whitespace or '"'.
        return "xgboost-ubj" if head[1:2] in (b"i", b"U", b"I", b"l", b"L") else "xgboost-json"
    return None


def load_file(path: Path, kind: FileKind) -> BoostedModel:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise InputFileError(f"model file '{source}' is {size} bytes; the limit is {MAX_MODEL_BYTES}")
        payload = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"model file '{source}' cannot be read ({exc.strerror})") from None
    return load_bytes(payload, kind, source)


def load_bytes(payload: bytes, kind: FileKind, source: str, labels: np.ndarray | None = None) -> BoostedModel:
    """Read and validate the model bytes ourselves, then load the library's model object from the same bytes.
    `labels`: class labels an in-memory sklearn wrapper knows but the file does not (LGBMClassifier.classes_)."""
    library = KINDS[kind]
    if kind in ("xgboost-json", "xgboost-ubj"):
        return _load_xgboost(payload, kind, source)
    if kind == "lightgbm-text":
        return _load_lightgbm(payload, source, labels)
    if kind == "catboost-cbm":
        return _load_catboost(payload, source)
    raise UsageError(f"model file '{source}': unknown boosting model kind {kind!r} for {library}")  # pragma: no cover


def _load_catboost(payload: bytes, source: str) -> BoostedModel:
    from dataclasses import replace

    from export.from_boosting import catboost_model

    native, document = catboost_model.load_native(payload, source)
    forest, categories = catboost_model.parse_catboost(document, source)
    names = tuple(str(n) for n in native.feature_names_)
    auto_names = names == tuple(str(j) for j in range(len(names)))  # CatBoost's placeholders for numpy training
    import catboost

    if categories is not None:
        if auto_names:
            raise UnsupportedEstimatorError(f"model file '{source}': a CatBoost model with categorical features "
                                            "needs column names; supported: models trained on a pandas DataFrame")
        if forest.n_features - categories.width != len(names) - len(categories.cat_columns):
            raise InputFileError(f"model file '{source}': CatBoost reads {len(names)} features, the file declares "
                                 f"{forest.n_features - categories.width} float and {len(categories.cat_columns)} "
                                 "categorical ones")
        return BoostedModel(forest=forest, native=native, payload=payload, kind="catboost-cbm",
                            library_version=str(catboost.__version__), source=source,
                            trained_version=catboost_model.trained_version(document), categories=categories,
                            input_names=names)
    n_features = len(names)  # every input column, also those no split uses
    if n_features < forest.n_features:
        raise InputFileError(f"model file '{source}': CatBoost reads {n_features} features, the splits use "
                             f"{forest.n_features}")
    forest = replace(forest, n_features=n_features, feature_names=None if auto_names else names)

    return BoostedModel(forest=forest, native=native, payload=payload, kind="catboost-cbm",
                        library_version=str(catboost.__version__), source=source,
                        trained_version=catboost_model.trained_version(document))


def check_xgboost_document(document: Any, source: str) -> BoostedForest:
    """Our own structural check of an XGBoost model document (parsed JSON/UBJSON), before XGBoost reads it."""
    from export.from_boosting import xgboost_model

    if not xgboost_model.is_xgboost_document(document):
        raise InputFileError(f"model file '{source}' is JSON but not an XGBoost model (no learner.gradient_booster); "
                             f"allowed: {DESCRIPTION}")
    return xgboost_model.parse_xgboost(document, source)


def check_lightgbm_text(text: Any, source: str, labels: np.ndarray | None = None) -> BoostedForest:
    """Our own structural check of a LightGBM text model, before LightGBM reads it."""
    from export.from_boosting import lightgbm_model

    if not isinstance(text, str):
        raise InputFileError(f"model file '{source}' is not a LightGBM text model; allowed: {DESCRIPTION}")
    return lightgbm_model.parse_lightgbm(text, source, labels)


def _load_lightgbm(payload: bytes, source: str, labels: np.ndarray | None) -> BoostedModel:

    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(f"model file '{source}' is not a LightGBM text model (not UTF-8 text); allowed: "
                             f"{DESCRIPTION}") from None
    forest = check_lightgbm_text(text, source, labels)
    lgb = require_library("lightgbm")
    try:
        booster = lgb.Booster(model_str=text)
    except Exception as exc:  # lightgbm.basic.LightGBMError
        raise InputFileError(f"model file '{source}': LightGBM cannot load it ({describe_exception(exc)})") from None
    if booster.num_feature() != forest.n_features:
        raise InputFileError(f"model file '{source}': LightGBM reads {booster.num_feature()} features, the file "
                             f"declares {forest.n_features}")
    return BoostedModel(forest=forest, native=booster, payload=payload, kind="lightgbm-text",
                        library_version=str(lgb.__version__), source=source)


def _load_xgboost(payload: bytes, kind: FileKind, source: str) -> BoostedModel:
    from export.from_boosting import ubjson

    try:
        document = json.loads(payload) if kind == "xgboost-json" else ubjson.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        what = "JSON" if kind == "xgboost-json" else "UBJSON"
        raise InputFileError(f"model file '{source}' is not readable {what} ({describe_exception(exc)}); "
                             f"allowed: {DESCRIPTION}") from None
    forest = check_xgboost_document(document, source)
    xgb = require_library("xgboost")
    try:
        booster = xgb.Booster()
        booster.load_model(bytearray(payload))
    except Exception as exc:  # xgboost.core.XGBoostError and friends
        raise InputFileError(f"model file '{source}': XGBoost cannot load it ({describe_exception(exc)})") from None
    if booster.num_features() != forest.n_features:
        raise InputFileError(f"model file '{source}': XGBoost reads {booster.num_features()} features, the file "
                             f"declares {forest.n_features}")
    version = document.get("version")
    trained = ".".join(str(v) for v in version) if isinstance(version, (list, np.ndarray)) else None
    return BoostedModel(forest=forest, native=booster, payload=payload, kind=kind,
                        library_version=str(xgb.__version__), source=source, trained_version=trained)


# ----------------------------------------------------------------------------------------------------------------
# In-memory models: the sklearn-API wrappers and the libraries' Booster objects


WRAPPER_MODULES = ("xgboost", "lightgbm", "catboost")


def is_boosting_object(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] in WRAPPER_MODULES


def from_object(obj: Any) -> BoostedModel:
    """XGBClassifier/XGBRegressor/Booster, LGBMClassifier/LGBMRegressor/Booster, CatBoostClassifier/Regressor/
    CatBoost: serialised through the library's own safe format, then read like a file."""
    module = type(obj).__module__.split(".")[0]
    name = type(obj).__name__
    try:
        if module == "xgboost":
            booster = obj.get_booster() if hasattr(obj, "get_booster") else obj
            model = load_bytes(bytes(booster.save_raw(raw_format="json")), "xgboost-json", f"<{name} in memory>")
            missing = obj.get_params().get("missing") if hasattr(obj, "get_params") else None
            if missing is not None:  # the wrapper's own `missing` parameter: what its predict uses
                model.missing = float(missing)
            return model
        if module == "lightgbm":
            booster = obj.booster_ if hasattr(obj, "booster_") else obj
            labels = np.asarray(obj.classes_) if hasattr(obj, "classes_") else None
            return load_bytes(booster.model_to_string().encode(), "lightgbm-text", f"<{name} in memory>", labels)
        if module == "catboost":
            with tempfile.TemporaryDirectory(prefix="mlexport-catboost-") as tmp:
                path = Path(tmp) / "model.cbm"
                obj.save_model(str(path), format="cbm")
                return load_bytes(path.read_bytes(), "catboost-cbm", f"<{name} in memory>")
    except (AttributeError, ValueError) as exc:
        raise UnsupportedEstimatorError(f"{name} cannot be serialised by its library ({describe_exception(exc)}); "
                                        "is it fitted?") from None
    except Exception as exc:  # library errors such as NotFittedError / XGBoostError / CatBoostError
        if "fit" in str(exc).lower():
            from export.errors import NotFittedError

            raise NotFittedError(f"{name} is not fitted; fit it before exporting") from None
        raise UnsupportedEstimatorError(f"{name} cannot be serialised ({describe_exception(exc)})") from None
    raise UnsupportedEstimatorError(f"{name} from {module} is not a supported boosting model")


def dtype_reason(model: BoostedModel) -> str:
    if model.forest.precision == "float32":
        return (f"Core ML inputs are Double; {model.library} compares float32(x) with float32 thresholds, which are "
                "snapped so routing stays exact for double inputs")
    return f"Core ML inputs are Double and {model.library} compares double x with double thresholds"


def labels_of(model: BoostedModel) -> np.ndarray | None:
    head = model.forest.head
    return head.labels if isinstance(head, ir.Classification) else None
