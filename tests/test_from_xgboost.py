"""XGBoost model files -> Core ML and ONNX, checked against XGBoost's own predictions on real rows (telco churn with
missing total_charges, Sacramento homes) and on rows placed at and next to every split threshold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from export.exporter import ExportOptions, export_model
from tests.boosting_data import (
    CHURN_STRINGS,
    UNSEEN,
    at_thresholds,
    churn_categories,
    homes_xy,
    run_artifact,
    run_artifact_frame,
    string_probe_frame,
    telco_xy,
)

xgb = pytest.importorskip("xgboost")

U32 = 2.0**-24


def _train(objective: str, extra: dict | None = None, rounds: int = 6) -> tuple[object, np.ndarray]:
    X, churn, contract = telco_xy()
    Xh, price = homes_xy()
    params = {"objective": objective, "max_depth": 3, "eta": 0.5, "seed": 0, **(extra or {})}
    if objective.startswith("multi"):
        X, y = X, contract
        params["num_class"] = 3
    elif objective in ("binary:logistic", "binary:hinge", "binary:logitraw"):
        X, y = X, churn
    elif objective == "reg:logistic":
        X, y = Xh, (price - price.min()) / np.ptp(price)
    elif objective == "count:poisson":
        X, y = Xh, homes_xy()[0][:, 0]
    else:
        X, y = Xh, price
    booster = xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=rounds)
    return booster, X


def _splits(booster: object) -> tuple[np.ndarray, np.ndarray, float]:
    """Split features and float32 thresholds from XGBoost's own JSON, and the float32-vs-double sum bound
    (N + 1) * 2^-24 * (|margin start| + sum of each tree's largest |leaf|) derived in parity/references/xgboost.py."""
    model = json.loads(bytes(booster.save_raw(raw_format="json")))["learner"]
    booster_json = model["gradient_booster"]
    trees = (booster_json["gbtree"] if booster_json["name"] == "dart" else booster_json)["model"]["trees"]
    features, thresholds, largest = [], [], 0.0
    for tree in trees:
        left = np.asarray(tree["left_children"])
        values = np.asarray(tree["split_conditions"], dtype=np.float64)
        features.append(np.asarray(tree["split_indices"])[left != -1])
        thresholds.append(values[left != -1])
        largest += float(np.abs(values[left == -1]).max())
    bound = (len(trees) + 1) * U32 * (largest + 14.0)
    return np.concatenate(features), np.concatenate(thresholds), bound


CASES = [
    ("binary:logistic", {}), ("binary:logitraw", {}), ("binary:hinge", {}), ("multi:softprob", {}),
    ("multi:softmax", {}), ("reg:squarederror", {}), ("reg:absoluteerror", {}), ("reg:pseudohubererror", {}),
    ("reg:quantileerror", {"quantile_alpha": 0.7}), ("reg:logistic", {}), ("count:poisson", {}), ("reg:gamma", {}),
    ("reg:tweedie", {}), ("reg:squarederror", {"booster": "dart", "rate_drop": 0.3, "seed": 1}),
]


@pytest.mark.parametrize(("objective", "extra"), CASES, ids=[f"{o}{'-dart' if e.get('booster') else ''}"
                                                            for o, e in CASES])
def test_export_matches_xgboost(tmp_path: Path, objective: str, extra: dict) -> None:
    booster, X = _train(objective, extra)
    path = tmp_path / ("model.json" if len(objective) % 2 else "model.ubj")
    booster.save_model(str(path))
    # the parity suite itself runs on a few objectives (it is the slow part); every case is checked below
    with_parity = objective in ("binary:logistic", "multi:softprob", "count:poisson") or "booster" in extra
    result = export_model(path, tmp_path / "out", ExportOptions(run_parity=with_parity), data=X)
    assert result.parity_verdict == ("passed" if with_parity else "skipped"), result.parity_summary
    features, thresholds, bound = _splits(booster)
    rows = np.vstack([X, at_thresholds(np.nan_to_num(X), features, thresholds, float32=True)])
    expected = np.asarray(booster.inplace_predict(rows, missing=np.nan), dtype=np.float64)
    for kind in ("coreml", "onnx"):
        got = run_artifact(result.artifacts[kind], rows)
        if objective.startswith("multi") or objective in ("binary:logistic", "binary:hinge"):
            labels = got["label"].astype(np.int64)
            if objective == "binary:logistic":
                np.testing.assert_array_equal(labels[np.abs(expected - 0.5) > bound], (expected > 0.5)
                                              [np.abs(expected - 0.5) > bound])
                np.testing.assert_allclose(got["probabilities"][:, 1], expected, rtol=4 * U32, atol=bound / 4)
            elif objective == "multi:softprob":
                np.testing.assert_allclose(got["probabilities"], expected.reshape(len(rows), -1), rtol=4 * U32,
                                           atol=bound)
                np.testing.assert_array_equal(labels, np.argmax(expected.reshape(len(rows), -1), axis=1))
            else:
                np.testing.assert_array_equal(labels, expected.astype(np.int64))
            continue
        prediction = got["prediction"].reshape(-1)
        if objective in ("count:poisson", "reg:gamma", "reg:tweedie"):
            # Core ML applies exp in its float32 neural-network stage: float32 rounding of margin and result
            rtol = np.expm1(bound) + (4e-6 if kind == "coreml" else 4 * U32)
            np.testing.assert_allclose(prediction, expected, rtol=rtol, atol=0)
        else:
            np.testing.assert_allclose(prediction, expected, rtol=4 * U32, atol=bound)


def test_wrappers_in_memory_and_feature_names(tmp_path: Path) -> None:
    import pandas as pd

    X, churn, _ = telco_xy()
    frame = pd.DataFrame(X, columns=["tenure", "monthly charges", "total_charges", "senior", "partner", "dependents"])
    model = xgb.XGBClassifier(n_estimators=4, max_depth=3).fit(frame, churn)
    result = export_model(model, tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    assert result.signature.feature_names == tuple(frame.columns)
    assert result.signature.coreml_input_names[1] == "monthly_charges"
    got = run_artifact(result.artifacts["onnx"], X)
    np.testing.assert_array_equal(got["label"], model.predict(frame))
    np.testing.assert_allclose(got["probabilities"], model.predict_proba(frame), rtol=4 * U32, atol=1e-7)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["model_file"] == "model.json"
    # the copied model file reloads in XGBoost and predicts what the wrapper predicts
    copy = xgb.Booster(model_file=str(tmp_path / "out" / "model.json"))
    np.testing.assert_array_equal(copy.inplace_predict(X), model.get_booster().inplace_predict(X))


def test_float32_contract(tmp_path: Path) -> None:
    booster, X = _train("reg:squarederror")
    booster.save_model(str(tmp_path / "m.json"))
    result = export_model(tmp_path / "m.json", tmp_path / "out", ExportOptions(input_dtype="float32"), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    X32 = X.astype(np.float32).astype(np.float64)
    got = run_artifact(result.artifacts["onnx"], X32)["prediction"].reshape(-1)
    np.testing.assert_allclose(got, booster.inplace_predict(X32), rtol=4 * U32, atol=_splits(booster)[2])


def test_snapped_thresholds_route_every_double_like_float32_less_than() -> None:
    """The lowering's exact-comparison rule for XGBoost `float32(x) < t32`, on random t32 and doubles at, between
    and around the float32 neighbours (ties to even included)."""
    from export import ir
    from export.from_boosting.forest import BoostedForest, Op, to_tree_ensemble

    rng = np.random.default_rng(1)
    t32 = np.concatenate([rng.standard_normal(300).astype(np.float32) * np.float32(1e3),
                          np.array([0.0, -0.0, 1e-40, -1e-40, 3.4e38, -3.4e38], dtype=np.float32)])
    n = t32.size
    forest = BoostedForest(
        library="xgboost", objective="reg:squarederror", n_features=1, feature_names=None, precision="float32",
        sums_float32=True, tree=np.repeat(np.arange(n), 3), node=np.tile([0, 1, 2], n),
        feature=np.tile([0, -1, -1], n), threshold=np.repeat(t32.astype(np.float64), 3) * np.tile([1, 0, 0], n),
        op=np.full(3 * n, Op.LT), true_child=np.tile([1, -1, -1], n), false_child=np.tile([2, -1, -1], n),
        missing_true=np.zeros(3 * n, dtype=bool), leaf_value=np.zeros((3 * n, 1)), leaf_target=np.full(3 * n, -1),
        base=np.zeros(1), head=ir.Regression())
    lowered = to_tree_ensemble(forest)
    roots = np.arange(n) * 3
    for t, threshold, mode in zip(t32, lowered.threshold[roots], lowered.mode[roots], strict=True):
        lo, hi = np.nextafter(t, np.float32(-np.inf)), np.nextafter(t, np.float32(np.inf))
        mids = [(float(lo) + float(t)) / 2, (float(t) + float(hi)) / 2]
        xs = np.array([float(lo), float(t), float(hi), *mids, *[np.nextafter(m, s) for m in mids
                                                                 for s in (-np.inf, np.inf)]])
        with np.errstate(over="ignore"):
            library = xs.astype(np.float32) < t
        ours = xs <= threshold if mode == ir.BranchMode.LEQ else xs < threshold
        np.testing.assert_array_equal(ours, library, err_msg=f"t32={t!r}")


# ----------------------------------------------------------------------------------------------------------------
# Categorical splits (enable_categorical=True): partitions and one-hot splits


def _sum_bound(booster: object) -> float:
    """(N + 1)·2⁻²⁴·S from the leaves of XGBoost's own JSON (categorical nodes hold no threshold to probe)."""
    return _splits(booster)[2]


def _categorical_booster(task: str, onehot: bool) -> tuple[object, pd.DataFrame, list[str]]:
    X, churn = churn_categories()
    strings = list(CHURN_STRINGS)
    params = {"max_depth": 3, "eta": 0.5, "seed": 0, "nthread": 1, "tree_method": "hist",
              "max_cat_to_onehot": 8 if onehot else 1}
    if task == "binary:logistic":
        y = (churn == "Yes").to_numpy().astype(int)
    elif task == "multi:softprob":
        y = X.pop("internet_service").cat.codes.to_numpy()
        strings.remove("internet_service")
        params["num_class"] = 3
    else:
        y = X.pop("monthly_charges").to_numpy()
    dtrain = xgb.DMatrix(X, y, enable_categorical=True)
    return xgb.train({**params, "objective": task}, dtrain, num_boost_round=8), X, strings


def _expected(booster: object, rows: pd.DataFrame, strings: list[str], X: pd.DataFrame) -> np.ndarray:
    """XGBoost's own predictions; an unseen string (XGBoost 3.2 has no defined result for it) is exported as a
    missing value, so its truth is XGBoost on the same row with NaN there."""
    known = rows.copy()
    for column in strings:
        values = known[column].where(known[column].isin(X[column].cat.categories))  # unseen -> NaN
        known[column] = pd.Categorical(values, categories=X[column].cat.categories)
    return np.asarray(booster.inplace_predict(known), dtype=np.float64)  # type: ignore[attr-defined]


CATEGORICAL_CASES = [("binary:logistic", False), ("binary:logistic", True), ("multi:softprob", False),
                     ("reg:squarederror", False)]


@pytest.mark.parametrize(("task", "onehot"), CATEGORICAL_CASES,
                         ids=[f"{t}{'-onehot' if o else ''}" for t, o in CATEGORICAL_CASES])
def test_pandas_categories_export_string_inputs_matching_xgboost(tmp_path: Path, task: str, onehot: bool) -> None:
    booster, X, strings = _categorical_booster(task, onehot)
    model = json.loads(bytes(booster.save_raw(raw_format="json")))["learner"]  # type: ignore[attr-defined]
    trees = model["gradient_booster"]["model"]["trees"]
    sizes = [size for tree in trees for size in tree["categories_sizes"]]
    assert sizes and (max(sizes) == 1 if onehot else max(sizes) > 1)  # one-hot vs partition splits
    assert model["gradient_booster"]["model"]["cats"]["enc"][0]["offsets"]  # the category strings are recorded
    path = tmp_path / ("model.ubj" if onehot else "model.json")
    booster.save_model(str(path))  # type: ignore[attr-defined]
    result = export_model(path, tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    rows = string_probe_frame(X, strings)
    expected = _expected(booster, rows, strings, X)
    bound = _sum_bound(booster)
    for kind in ("coreml", "onnx"):
        got = run_artifact_frame(result.artifacts[kind], rows, strings)
        if task == "binary:logistic":
            np.testing.assert_allclose(got["probabilities"][:, 1], expected, rtol=4 * U32, atol=bound / 4)
        elif task == "multi:softprob":
            np.testing.assert_allclose(got["probabilities"], expected.reshape(len(rows), -1), rtol=4 * U32,
                                       atol=bound)
        else:
            np.testing.assert_allclose(got["prediction"].reshape(-1), expected, rtol=4 * U32, atol=bound)
    assert (rows[strings[0]] == UNSEEN).any()


def test_classifier_wrapper_with_category_columns(tmp_path: Path) -> None:
    X, churn = churn_categories()
    model = xgb.XGBClassifier(n_estimators=5, max_depth=3, enable_categorical=True, n_jobs=1).fit(
        X, (churn == "Yes").astype(int))
    result = export_model(model, tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    got = run_artifact_frame(result.artifacts["onnx"], X, CHURN_STRINGS)
    np.testing.assert_allclose(got["probabilities"], model.predict_proba(X), rtol=4 * U32,
                               atol=_sum_bound(model.get_booster()))


# Odd codes: XGBoost truncates float32(x); negative (-0.5 too, but not -0.0 or -1e-40, which round to -0.0) and
# >= 2^24 are no code and go left like unseen codes; NaN takes default_left. DMatrix refuses inf.
ODD_CODES = np.array([np.nan, -2.0, -1.0, -0.5, -1e-40, -0.0, 0.0, 1e-40, 0.5, np.nextafter(1.0, 0), 1.0, 2.5,
                      3.7, 31.0, 32.0, 40.0, 71.0, 72.0, 73.0, 2.0**24 - 1, 2.0**24, 2.0**31 + 5, 1e30])


def test_integer_coded_categoricals_keep_a_numeric_input(tmp_path: Path) -> None:
    """feature_types 'c' on a numpy array (no category strings recorded): tenure codes 0..72 and contract codes."""
    features, churn, contract = telco_xy()
    X = np.column_stack([features[:, [0, 3, 4, 5]], contract.astype(np.float64)])
    types = ["c", "q", "q", "q", "c"]
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "max_cat_to_onehot": 1, "nthread": 1,
                         "tree_method": "hist"}, xgb.DMatrix(X, churn, feature_types=types, enable_categorical=True),
                        num_boost_round=6)
    booster.save_model(str(tmp_path / "model.json"))
    assert not json.loads((tmp_path / "model.json").read_text())["learner"]["gradient_booster"]["model"]["cats"][
        "enc"]
    result = export_model(tmp_path / "model.json", tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    rows = np.repeat(X[:6], len(ODD_CODES) * 2, axis=0)
    rows[np.arange(len(rows)), np.tile(np.repeat([0, 4], len(ODD_CODES)), 6)] = np.tile(ODD_CODES, 12)
    rows = np.vstack([X, rows])
    expected = booster.predict(xgb.DMatrix(rows, feature_types=types, enable_categorical=True))
    for kind in ("coreml", "onnx"):
        got = run_artifact(result.artifacts[kind], rows)["probabilities"][:, 1]
        np.testing.assert_allclose(got, expected, rtol=4 * U32, atol=_sum_bound(booster) / 4)


def test_cli_exports_categorical_json_with_string_csv(tmp_path: Path) -> None:
    from export.cli import main

    booster, X, _ = _categorical_booster("binary:logistic", False)
    booster.save_model(str(tmp_path / "model.ubj"))  # type: ignore[attr-defined]
    X.to_csv(tmp_path / "rows.csv", index=False)
    code = main(["export", str(tmp_path / "model.ubj"), "--out", str(tmp_path / "out"), "--data",
                 str(tmp_path / "rows.csv")])
    assert code == 0
    assert json.loads((tmp_path / "out" / "parity.json").read_text())["verdict"] == "passed"


def test_numeric_pandas_categories_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from export.cli import main
    from tests.test_cli_bad_input import _assert_refused, _nothing_written

    X, churn = churn_categories()
    X = X[["contract", "tenure"]].copy()
    X["contract"] = X["contract"].cat.codes.astype("category")  # categories 0, 1, 2 (numbers, not strings)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2},
                        xgb.DMatrix(X, (churn == "Yes").astype(int), enable_categorical=True), num_boost_round=2)
    booster.save_model(str(tmp_path / "model.json"))
    code = main(["export", str(tmp_path / "model.json"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "model.json", "numeric pandas categories")
    _nothing_written(tmp_path)


def test_edited_categorical_xgboost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from export.cli import main
    from tests.test_cli_bad_input import _assert_refused, _nothing_written

    booster, _, _ = _categorical_booster("binary:logistic", False)
    document = json.loads(bytes(booster.save_raw(raw_format="json")))  # type: ignore[attr-defined]

    def edited(edit: Any) -> dict:
        copy = json.loads(json.dumps(document))
        edit(copy["learner"]["gradient_booster"]["model"])
        return copy

    def first_categorical_tree(model: dict) -> dict:
        return next(t for t in model["trees"] if t["categories_nodes"])

    cases = [
        (lambda m: first_categorical_tree(m)["categories_nodes"].__setitem__(
            0, len(first_categorical_tree(m)["left_children"]) - 1), "categories_nodes differ"),  # a leaf
        (lambda m: first_categorical_tree(m)["categories"].__setitem__(0, -1), "category code outside"),
        (lambda m: first_categorical_tree(m).update(categories_sizes=[10**6] * len(
            first_categorical_tree(m)["categories_sizes"])), "do not index categories"),
        (lambda m: m["cats"]["enc"][0]["offsets"].__setitem__(-1, 10**6), "offsets do not cut"),
    ]
    for edit, needle in cases:
        (tmp_path / "model.json").write_text(json.dumps(edited(edit)))
        code = main(["export", str(tmp_path / "model.json"), "--out", str(tmp_path / "out")])
        _assert_refused(code, capsys.readouterr().err, "model.json", needle)
    _nothing_written(tmp_path)
