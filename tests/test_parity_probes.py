"""Probe sets: threshold probes land exactly on t and its float32/float64 neighbours, NaN only where accepted."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeRegressor

from parity.probes import build_probes, float32_bracket

X_CLS, Y_CLS = make_classification(n_samples=200, n_features=5, random_state=0)
X_REG, Y_REG = make_regression(n_samples=200, n_features=4, random_state=0)


def _tree_splits(tree: DecisionTreeRegressor) -> set[tuple[int, float]]:
    internal = tree.tree_.children_left != -1
    return set(zip(tree.tree_.feature[internal].tolist(), tree.tree_.threshold[internal].tolist(), strict=True))


def test_threshold_probes_land_on_every_split_and_its_neighbours() -> None:
    tree = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X_REG, Y_REG)
    probes = build_probes(tree, X_REG, 4)
    thresholds = probes.by_name("thresholds")
    neighbours = probes.by_name("float32-neighbours")
    boundaries = probes.by_name("rounding-boundaries")
    assert thresholds is not None and neighbours is not None and boundaries is not None
    splits = _tree_splits(tree)
    for feature, t in splits:
        column = thresholds.X[:, feature]
        assert t in column  # exactly t
        assert float(np.float32(t)) in column
        assert np.nextafter(t, np.inf) in column and np.nextafter(t, -np.inf) in column
        # float32 values bracketing t, checked independently with numpy's float32 spacing
        values = neighbours.X[neighbours.split_threshold == t, feature]
        assert all(float(np.float32(v)) == v for v in values)  # float32-representable
        below, above = np.unique(values)
        assert below < t < above
        up = float(np.nextafter(np.float32(below), np.float32(np.inf)))
        down = float(np.nextafter(np.float32(above), np.float32(-np.inf)))
        assert up >= t and down <= t  # adjacent: no other float32 lies strictly between them and t
    # the rounding boundary is where float32(x) switches between the bracketing floats
    assert boundaries.split_threshold is not None and boundaries.split_feature is not None
    lo_b, hi_b = float32_bracket(boundaries.split_threshold)
    placed = boundaries.X[np.arange(len(boundaries.X)), boundaries.split_feature]
    middle = lo_b + (hi_b - lo_b) / 2
    assert np.all((placed == middle) | (placed == np.nextafter(middle, -np.inf))
                  | (placed == np.nextafter(middle, np.inf)))
    lo, hi = float32_bracket(np.array([t for _, t in splits]))
    mid = lo + (hi - lo) / 2
    assert np.all(np.nextafter(mid, -np.inf).astype(np.float32) == lo.astype(np.float32))
    assert np.all(np.nextafter(mid, np.inf).astype(np.float32) == hi.astype(np.float32))


def test_threshold_probe_rows_reach_the_split_node() -> None:
    # Every probe row must pass through the node whose threshold it probes, or a moved threshold goes unseen.
    forest = RandomForestClassifier(n_estimators=4, max_depth=5, random_state=0).fit(X_CLS, Y_CLS)
    probes = build_probes(forest, X_CLS, 5)
    thresholds = probes.by_name("thresholds")
    assert thresholds is not None and thresholds.split_feature is not None and thresholds.split_threshold is not None
    reached = 0
    n = len(thresholds.X) // 4
    for row, feature, t in zip(thresholds.X[:n], thresholds.split_feature[:n], thresholds.split_threshold[:n],
                               strict=True):
        for estimator in forest.estimators_:
            tree = estimator.tree_
            path = estimator.decision_path(row.reshape(1, -1)).indices
            if any(tree.feature[node] == feature and tree.threshold[node] == t for node in path):
                reached += 1
                break
    assert reached == n


def test_nan_probes_only_where_the_model_accepts_nan() -> None:
    logistic = LogisticRegression().fit(X_CLS, Y_CLS)
    probes = build_probes(logistic, X_CLS, 5)
    assert probes.by_name("nan") is None
    assert any("NaN probes skipped" in note for note in probes.notes)
    imputed = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X_CLS, Y_CLS)
    nan_set = build_probes(imputed, X_CLS, 5).by_name("nan")
    assert nan_set is not None and np.isnan(nan_set.X).sum(axis=1).tolist() == [1] * len(nan_set.X)
    hgb = HistGradientBoostingRegressor(max_iter=5).fit(X_REG, Y_REG)
    assert build_probes(hgb, X_REG, 4).by_name("nan") is not None


def test_hgb_has_no_float32_rounding_boundary_probes() -> None:
    # HGB compares float64 x against its thresholds, so the float32 rounding boundary is not a decision boundary.
    hgb = HistGradientBoostingRegressor(max_iter=3).fit(X_REG, Y_REG)
    probes = build_probes(hgb, X_REG, 4)
    assert probes.by_name("thresholds") is not None and probes.by_name("rounding-boundaries") is None


def test_scaler_before_tree_skips_raw_threshold_probes_and_says_why() -> None:
    pipeline = make_pipeline(StandardScaler(), DecisionTreeRegressor(max_depth=3)).fit(X_REG, Y_REG)
    probes = build_probes(pipeline, X_REG, 4)
    assert probes.by_name("thresholds") is None
    assert any("StandardScaler" in note for note in probes.notes)


def test_imputer_before_tree_keeps_raw_threshold_probes() -> None:
    pipeline = make_pipeline(SimpleImputer(), DecisionTreeRegressor(max_depth=3)).fit(X_REG, Y_REG)
    thresholds = build_probes(pipeline, X_REG, 4).by_name("thresholds")
    assert thresholds is not None
    tree = pipeline[-1]
    for feature, t in _tree_splits(tree):
        assert t in thresholds.X[:, feature]


def test_unseen_categories_and_extremes() -> None:
    categories = np.random.default_rng(0).integers(0, 3, size=(50, 2)).astype(float)
    encoder = OneHotEncoder(handle_unknown="ignore").fit(categories)
    probes = build_probes(encoder, categories, 2)
    unseen = probes.by_name("unseen-categories")
    assert unseen is not None
    assert np.any(~np.isin(unseen.X, [0.0, 1.0, 2.0]), axis=1).all()  # every row holds a category never seen
    extremes = probes.by_name("extremes")
    assert extremes is not None
    values = set(extremes.X.ravel().tolist())
    assert {1e30, -1e30} <= values
    assert float(np.finfo(np.float32).max) not in values  # arithmetic models: ±FLT_MAX overflows float32 anyway
    assert any(np.signbit(v) and v == 0 for v in extremes.X.ravel())  # -0.0 really present
    tree = DecisionTreeRegressor(max_depth=2).fit(X_REG, Y_REG)
    tree_extremes = build_probes(tree, X_REG, 4).by_name("extremes")
    assert tree_extremes is not None
    assert {float(np.finfo(np.float32).max), -float(np.finfo(np.float32).max)} <= set(tree_extremes.X.ravel().tolist())


def test_model_only_probes_without_data() -> None:
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_CLS * 10 + 5, Y_CLS)
    probes = build_probes(pipeline, None, 5)
    derived = probes.by_name("model-derived")
    assert derived is not None and derived.X.shape[1] == 5
    assert np.allclose(derived.X.mean(axis=0), pipeline[0].mean_, atol=4 * pipeline[0].scale_.max() / np.sqrt(200))
    assert probes.by_name("one-row").X.shape == (1, 5)  # type: ignore[union-attr]
    assert probes.by_name("large-batch").X.shape == (2000, 5)  # type: ignore[union-attr]


def test_threshold_sample_is_bounded_and_seeded() -> None:
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X_CLS, Y_CLS)
    first = build_probes(forest, X_CLS, 5, max_thresholds=100)
    second = build_probes(forest, X_CLS, 5, max_thresholds=100)
    assert len(first.by_name("thresholds").X) == 400  # type: ignore[union-attr]
    assert np.array_equal(first.by_name("thresholds").X, second.by_name("thresholds").X)  # type: ignore[union-attr]
    assert any("seeded sample of 100" in note for note in first.notes)


def test_hgb_path_walk_reaches_scikit_learns_leaves() -> None:
    from parity.references import adapter_for

    hgb = HistGradientBoostingRegressor(max_iter=3, max_depth=4).fit(X_REG, Y_REG)
    rows = X_REG.copy()
    rows[::7, 1] = np.nan
    trees = adapter_for(hgb).trees(hgb)
    assert trees is not None
    for iteration, tree in zip(hgb._predictors, trees, strict=True):
        predictor = iteration[0]
        visited = tree.visits(rows)
        leaves = np.flatnonzero(predictor.nodes["is_leaf"])
        reached = visited[:, leaves]
        assert np.all(reached.sum(axis=1) == 1)  # exactly one leaf per row
        values = predictor.nodes["value"][leaves][reached.argmax(axis=1)]
        expected = predictor.predict(rows, np.zeros((0, 8), dtype=np.uint32), np.zeros(rows.shape[1], np.uint32), 1)
        assert np.array_equal(values, expected)


def test_tree_path_walk_matches_scikit_learns_decision_path() -> None:
    from sklearn.tree import DecisionTreeRegressor

    from parity.references import adapter_for

    rows = X_REG.copy()
    rows[::5, 0] = np.nan
    tree_model = DecisionTreeRegressor(max_depth=5, random_state=0).fit(rows, Y_REG)  # learns NaN routing
    trees = adapter_for(tree_model).trees(tree_model)
    assert trees is not None and len(trees) == 1
    expected = tree_model.decision_path(rows).toarray().astype(bool)
    assert np.array_equal(trees[0].visits(rows), expected)
