"""The boosting libraries' rows of the front-end registry (`export.frontends`): XGBoost, LightGBM and CatBoost
model types keyed by their library-qualified type names, with per-format support as data.

Every row converts the same way: the model is serialised by its own library into its safe model format and read
by our validating reader (`export.from_boosting.from_object`), then lowered through `forest.to_tree_ensemble` —
exactly the path a model file takes (`mlexport export model.json` reads a `Booster` from the file's content).
Rows are registered by name, so the table lists them whether or not the optional library is installed; a missing
library is a one-line "pip install 'mlexport[…]'" when a model is read.
"""

from __future__ import annotations

from typing import Any

from export import ir
from export.from_boosting.forest import forest_inputs, to_tree_ensemble
from export.frontends import Converted, register_model_builder, register_named

XGBOOST_NOTES = (
    "gbtree and dart; binary:logistic/logitraw/hinge, multi:softprob/softmax, reg:squarederror/absoluteerror/"
    "pseudohubererror/quantileerror (one alpha)/squaredlogerror/logistic, count:poisson, reg:gamma, reg:tweedie; "
    "routing exact for float64 and float32 inputs; float32 margin sums reproduced within (N+1)·2⁻²⁴·S "
    "(both formats sum in double); call-time missing via --missing or the wrapper's own (exact for float32 inputs, "
    "float64 when no split routes it elsewhere); base_margin not supported (undetectable in the file); "
    "categorical splits (enable_categorical, partitions and one-hot): with the category strings XGBoost >= 3.1 "
    "records, String inputs (\"\" and unseen strings = missing, default_left), else numeric codes with XGBoost's "
    "rules (float32 truncated; negative and >= 2^24 are no category); numeric pandas categories, gblinear, "
    "multi_output_tree and early-stopped wrappers refused")
LIGHTGBM_NOTES = (
    "gbdt, dart, goss; binary (any sigmoid), multiclass, regression/l1/huber/fair/quantile/mape, poisson/gamma/"
    "tweedie, cross_entropy; double comparisons with the |x| ≤ 1e-35 zero band and missing types None/NaN; "
    "categorical splits (bitsets): pandas category columns of strings become String inputs (\"\" and unknown "
    "strings = NaN, as LightGBM maps them), integer codes on numpy keep a numeric input (LightGBM truncates; NaN, "
    "negative and unseen codes go right), one membership lookup per distinct split set; ordered or non-string "
    "pandas categories, linear_tree, rf, multiclassova, reg_sqrt and zero_as_missing against the threshold refused")
CATBOOST_NOTES = (
    "symmetric (oblivious) trees, nan_mode Min/Max/Forbidden; Logloss, CrossEntropy, MultiClass, RMSE, MAE, "
    "Quantile, MAPE, Huber, Lq, Expectile, LogCosh, Poisson, Tweedie; categorical features as String inputs: "
    "one-hot and single-feature CTRs (Borders, Buckets, Counter) exact, the category strings "
    "taken from --data rows (the model holds only hashes; unseen strings exact unless their 32-bit hash "
    "collides with a training category's); CTRs over feature combinations, text/embedding features and "
    "non-symmetric trees refused")

# (qualified type name as `frontends.qualified_name` spells the class, what the row adds to the library's notes)
ROWS: tuple[tuple[str, str], ...] = (
    ("xgboost.core.Booster", "also .json/.ubj model files (save_model), detected by content. " + XGBOOST_NOTES),
    ("xgboost.sklearn.XGBClassifier", XGBOOST_NOTES),
    ("xgboost.sklearn.XGBRegressor", XGBOOST_NOTES),
    ("lightgbm.basic.Booster", "also text model files (save_model .txt), detected by content. " + LIGHTGBM_NOTES),
    ("lightgbm.sklearn.LGBMClassifier", LIGHTGBM_NOTES),
    ("lightgbm.sklearn.LGBMRegressor", LIGHTGBM_NOTES),
    ("catboost.core.CatBoost", "also .cbm model files (save_model), detected by content. " + CATBOOST_NOTES),
    ("catboost.core.CatBoostClassifier", CATBOOST_NOTES),
    ("catboost.core.CatBoostRegressor", CATBOOST_NOTES),
)


def convert_boosting(model: Any) -> Converted:
    """The library's own serialisation, read like a model file; the inputs are the ones the file records."""
    from export.errors import UnsupportedEstimatorError
    from export.from_boosting import from_object

    boosted = from_object(model)
    if boosted.string_columns:  # the lookup's strings come from rows, which a Pipeline step never sees
        raise UnsupportedEstimatorError(
            f"{type(model).__name__} with categorical features ({', '.join(boosted.string_columns)}) inside a "
            "scikit-learn Pipeline is not supported; supported: the CatBoost model itself (export it with --data)")
    from export import ir
    from export.from_boosting import missing_imputer

    forest = boosted.forest
    # an XGBoost wrapper's own `missing` parameter: the steps before it compute in double, so the float64 contract
    imputer = missing_imputer(forest, boosted.missing, "float64", boosted.source, in_pipeline=True)
    trees = to_tree_ensemble(forest)
    return Converted(trees if imputer is None else ir.Pipeline((imputer, trees)), forest.head, forest_inputs(forest))


def boosting_model(model: Any) -> ir.Model | None:
    """A boosting model on its own (not inside a Pipeline) as a whole IR model: what its file would give, string
    inputs and membership steps included when it has categorical splits (`export.from_boosting.categorical`)."""
    from export.from_boosting import from_object, is_boosting_object

    if not is_boosting_object(model):
        return None
    return from_object(model).to_ir()


for _name, _notes in ROWS:
    register_named(_name, "tree", convert_boosting, _notes)
register_model_builder(boosting_model)
