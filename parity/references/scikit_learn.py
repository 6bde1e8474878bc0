"""Reference adapter for scikit-learn models (and Pipelines/ColumnTransformers of them).

Family, tree and float32 knowledge is keyed by the fitted model's class (exact type, like the exporter's table) and
read from its own attributes: `tree_` (sklearn.tree), `estimators_` (forests, gradient boosting), `_predictors`
(HistGradientBoosting's TreePredictor node arrays).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from parity.bounds import (
    Activation,
    Affine,
    Binarize,
    BinaryLogistic,
    Chain,
    Elementwise,
    Impute,
    KernelExpansion,
    MemberAverage,
    Normalise,
    PowerMap,
    QuadraticForms,
    Softmax,
    TreeSum,
    Ufunc,
)
from parity.references import Family, WalkTree, final_model, outputs_by_role
from parity.sub_estimators import sub_estimators

# sklearn.tree-based models: scikit-learn casts X to float32 before walking (`check_input` -> DTYPE = float32).
_FLOAT32_TREE_MODELS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
                        "ExtraTreesRegressor", "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
                        "ExtraTreeRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor")
_AVERAGED_FORESTS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")
# predict == classes_.take(argmax(predict_proba)) (ForestClassifier.predict, DecisionTreeClassifier.predict)
_LABEL_IS_ARGMAX = ("RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier", "ExtraTreeClassifier")
_LINEAR_SVM = ("LinearSVC", "LinearSVR")
# Meta-estimators whose arithmetic is their members': their family is the members' (trees only -> "tree", so the
# probes that overflow float32 arithmetic are kept for all-tree ensembles only).
_META_ESTIMATORS = ("VotingClassifier", "VotingRegressor", "StackingClassifier", "StackingRegressor",
                    "BaggingClassifier", "BaggingRegressor", "CalibratedClassifierCV", "OneVsOneClassifier",
                    "MultiOutputClassifier", "MultiOutputRegressor", "ClassifierChain", "RegressorChain",
                    "TransformedTargetRegressor")


def _is(model: Any, names: tuple[str, ...]) -> bool:
    return type(model).__module__.startswith("sklearn.") and type(model).__name__ in names


class ScikitLearnAdapter:
    library = "sklearn"

    # ---- family

    def family(self, model: Any) -> Family:
        if _is(model, _META_ESTIMATORS):
            members = {self.family(m) for m in sub_estimators(model)[1:] if not _is(m, _META_ESTIMATORS)}
            return members.pop() if len(members) == 1 else "other"
        module = type(model).__module__
        if module.startswith(("sklearn.tree", "sklearn.ensemble")):
            return "tree"
        if module.startswith("sklearn.svm"):
            return "linear" if type(model).__name__ in _LINEAR_SVM else "kernel"
        if module.startswith(("sklearn.linear_model", "sklearn.multiclass", "sklearn.discriminant_analysis")):
            return "linear"
        if module.startswith("sklearn.neural_network"):
            return "network"
        if module.startswith("sklearn.neighbors"):
            return "neighbours"
        if module.startswith("sklearn.naive_bayes"):
            return "naive_bayes"
        if not hasattr(model, "predict") and hasattr(model, "transform"):
            return "transform"
        return "other"

    # ---- predicting

    def predict(self, estimator: Any, X: np.ndarray, roles: set[str]) -> dict[str, np.ndarray]:
        return outputs_by_role(estimator, X, roles, self._label_is_argmax(estimator))

    @staticmethod
    def _label_is_argmax(estimator: Any) -> bool:
        return _is(estimator, _LABEL_IS_ARGMAX) and getattr(estimator, "n_outputs_", 1) == 1

    def input_cast_to_float32(self, estimator: Any) -> bool:
        # IsolationForest.score_samples validates X as float32 before its trees see it
        return _is(estimator, (*_FLOAT32_TREE_MODELS, "IsolationForest"))

    def nan_refusal(self, estimator: Any, rows: np.ndarray) -> str | None:
        method = estimator.predict if hasattr(estimator, "predict") else estimator.transform
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                method(rows)
        except (ValueError, TypeError, FloatingPointError, OverflowError) as exc:  # TypeError: encoders on strings
            return str(exc).splitlines()[0]
        return None

    # ---- trees

    def compares_float32(self, model: Any) -> bool:
        return not hasattr(model, "_predictors")  # HGB bins/compares float64 x; sklearn.tree compares float32

    def averaged_trees(self, model: Any) -> int | None:
        return len(model.estimators_) if _is(model, _AVERAGED_FORESTS) else None

    def trees(self, model: Any) -> list[WalkTree] | None:
        if hasattr(model, "_predictors"):  # HistGradientBoosting*: TreePredictor.nodes; NaN -> missing_go_to_left
            trees = []
            for iteration in model._predictors:
                for predictor in iteration:
                    nodes = predictor.nodes
                    # categorical splits route by bitset; they stop the walk (export refuses them)
                    leaf = nodes["is_leaf"].astype(bool) | nodes["is_categorical"].astype(bool)
                    trees.append(WalkTree(np.arange(len(nodes)), leaf, nodes["feature_idx"].astype(np.int64),
                                          nodes["num_threshold"].astype(np.float64), ["BRANCH_LEQ"] * len(nodes),
                                          np.where(leaf, -1, nodes["left"]).astype(np.int64),
                                          np.where(leaf, -1, nodes["right"]).astype(np.int64),
                                          nodes["missing_go_to_left"].astype(bool), compares_float32=False))
            return trees
        raw = self._tree_objects(model)
        if raw is None:
            return None
        trees = []
        for tree, columns in zip(raw, _tree_columns(model, len(raw)), strict=True):
            leaf = tree.children_left == -1
            missing_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=np.uint8))
            feature = tree.feature.astype(np.int64)
            if columns is not None:  # the tree reads X[:, columns]: its feature j is raw column columns[j]
                feature = np.where(leaf, feature, columns[np.maximum(feature, 0)])
            trees.append(WalkTree(np.arange(tree.node_count), leaf, feature,
                                  tree.threshold.astype(np.float64), ["BRANCH_LEQ"] * tree.node_count,
                                  tree.children_left.astype(np.int64), tree.children_right.astype(np.int64),
                                  np.asarray(missing_left).astype(bool), compares_float32=True))
        return trees

    @staticmethod
    def _tree_objects(model: Any) -> list[Any] | None:
        """The `tree_` objects of a sklearn.tree-based model, in flattened estimators_ order; None otherwise."""
        if hasattr(model, "tree_"):
            return [model.tree_]
        if _is(model, (*_FLOAT32_TREE_MODELS, "IsolationForest")) and hasattr(model, "estimators_"):
            return [e.tree_ for e in np.asarray(model.estimators_, dtype=object).ravel()]
        return None

    # ---- what pipeline steps do to raw columns

    def raw_columns(self, step: Any, n_in: int) -> np.ndarray | None:
        if step is None or step == "passthrough":
            return np.arange(n_in)
        name = type(step).__name__
        if name == "SimpleImputer":
            # Non-NaN values pass through unchanged; columns whose statistic is NaN are dropped unless kept.
            if getattr(step, "keep_empty_features", False):
                return np.arange(n_in)
            return np.flatnonzero(~np.isnan(np.asarray(step.statistics_, dtype=np.float64)))
        if name == "FunctionTransformer" and step.func is None:
            return np.arange(n_in)
        if hasattr(step, "get_support") and not hasattr(step, "transform_output_"):
            try:
                return np.asarray(step.get_support(indices=True), dtype=np.int64)
            except (AttributeError, ValueError):
                return None
        if name == "ColumnTransformer":
            return self._column_transformer_columns(step)
        return None

    @staticmethod
    def _column_transformer_columns(transformer: Any) -> np.ndarray | None:
        indices = getattr(transformer, "_transformer_to_input_indices", None)
        if indices is None:
            return None
        pieces = []
        for name, inner, _columns in transformer.transformers_:
            if inner == "drop":
                continue
            if inner != "passthrough":
                return None
            pieces.append(np.asarray(indices[name], dtype=np.int64))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)

    def unseen_category_columns(self, estimator: Any, n_features: int) -> list[tuple[Any, np.ndarray]]:
        first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
        if type(first).__name__ == "OneHotEncoder":
            return [(first, np.arange(n_features))]
        if type(first).__name__ == "ColumnTransformer":
            indices = getattr(first, "_transformer_to_input_indices", {})
            return [(inner, np.asarray(indices[name])) for name, inner, _ in first.transformers_
                    if type(inner).__name__ == "OneHotEncoder" and name in indices]
        return []

    def category_codes(self, estimator: Any) -> dict[int, np.ndarray]:
        return {}  # HistGradientBoosting categoricals are string columns (numeric codes are refused by export)

    def critical_points(self, step: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """Read from the fitted attributes the transformer's own transform compares against."""
        name = type(step).__name__
        if not type(step).__module__.startswith("sklearn."):
            return None
        n = int(getattr(step, "n_features_in_", 0))
        per_feature: list[np.ndarray] = []
        if name == "Binarizer":  # x > threshold
            per_feature = [np.array([float(step.threshold)])] * n
        elif name == "KBinsDiscretizer":  # np.searchsorted(bin_edges_[j][1:-1], x, side='right')
            per_feature = [np.asarray(edges, dtype=np.float64)[1:-1] for edges in step.bin_edges_]
        elif name == "MinMaxScaler" and step.clip:  # x·scale_ + min_ reaches feature_range: x = (bound - min_)/scale_
            scale, offset = _column(step.scale_), _column(step.min_)
            with np.errstate(divide="ignore", invalid="ignore"):
                per_feature = [np.array([(bound - offset[j]) / scale[j] for bound in step.feature_range])
                               for j in range(n)]
        elif name == "SplineTransformer":  # where the knot interval changes, and the extrapolation bounds
            per_feature = [np.unique(np.asarray(spline.t, dtype=np.float64)) for spline in step.bsplines_]
        elif name == "QuantileTransformer":  # interp knots; normal: x ∓ BOUNDS_THRESHOLD (1e-7) reaching the ends
            quantiles = np.asarray(step.quantiles_, dtype=np.float64)
            ends = ([quantiles[0] + 1e-7, quantiles[-1] - 1e-7] if step.output_distribution == "normal" else [])
            per_feature = [np.unique(np.concatenate([quantiles[:, j], [e[j] for e in ends]]))
                           for j in range(quantiles.shape[1])]
        elif name in ("MissingIndicator", "SimpleImputer") and not _is_nan(step.missing_values):
            features = np.arange(n) if name == "SimpleImputer" else np.asarray(step.features_)
            per_feature = [np.array([float(step.missing_values)]) if j in features else np.zeros(0)
                           for j in range(n)]
        if not per_feature:
            return None
        columns = np.concatenate([np.full(len(v), j, dtype=np.int64) for j, v in enumerate(per_feature)])
        values = np.concatenate(per_feature)
        finite = np.isfinite(values)
        return (columns[finite], values[finite]) if finite.any() else None

    # ---- arithmetic, for error bounds

    def chain(self, estimator: Any) -> Chain | None:
        steps = list(estimator.steps) if hasattr(estimator, "steps") else [("model", estimator)]
        bound_steps: list[Any] = []
        for _, step in steps:
            if step is None or step == "passthrough":
                continue
            if hasattr(step, "steps"):
                inner = self.chain(step)
                if inner is None:
                    return None
                bound_steps += inner.steps
                continue
            found = _step_chain(step)
            if found is None:
                return None
            bound_steps += found
        model = final_model(estimator)
        role = ("probabilities" if hasattr(model, "predict_proba") and hasattr(model, "classes_") else
                "prediction" if hasattr(model, "predict") else "transformed")
        if role == "probabilities" and not isinstance(bound_steps[-1], BinaryLogistic | Softmax | Normalise
                                                      | TreeSum | MemberAverage):
            return None
        if role == "prediction" and hasattr(model, "classes_"):
            return None  # labels only: compared exactly
        return Chain(bound_steps, role, " → ".join(type(s).__name__ for _, s in steps if s not in (None,
                                                                                                  "passthrough")))


def _tree_columns(model: Any, n_trees: int) -> list[np.ndarray | None]:
    """Per tree, the raw columns it reads when it was fitted on a feature subset (IsolationForest with max_features
    < n_features: `estimators_features_`, applied as scikit-learn's `subsample_features`), else None."""
    if _is(model, ("IsolationForest",)) and model._max_features != model.n_features_in_:
        return [np.asarray(f, dtype=np.int64) for f in model.estimators_features_]
    return [None] * n_trees


def _probability_steps(member: Any) -> list[Any] | None:
    """A member classifier's probability steps (its own chain, a Pipeline's included), or None."""
    chain = ADAPTER.chain(member)
    return chain.steps if chain is not None and chain.role == "probabilities" else None


def _calibrated_steps(calibrated: Any) -> tuple[Any, list[Any]] | None:
    """One `_CalibratedClassifier` with sigmoid calibrators over a linear decision_function: the affine decision,
    the calibrators' affine z = -(a f + b) (folded into one), then the logistic (binary) or one-vs-rest rule."""
    base = calibrated.estimator
    if calibrated.method != "sigmoid" or not hasattr(base, "decision_function") or not hasattr(base, "coef_"):
        return None
    if not _is(base, ("LogisticRegression", "LinearSVC", "SGDClassifier", "RidgeClassifier", "Perceptron",
                      "PassiveAggressiveClassifier", "RidgeClassifierCV", "LogisticRegressionCV")):
        return None
    a = np.array([float(c.a_) for c in calibrated.calibrators])
    b = np.array([float(c.b_) for c in calibrated.calibrators])
    coef = np.asarray(base.coef_, dtype=np.float64).reshape(len(a), -1)
    # z = -(a * (x @ coef.T + intercept) + b), as one affine map of x
    weight, bias = (coef * -a[:, None]).T, -(a * _column(base.intercept_) + b)
    steps = _logistic(weight.T, bias, softmax=False)
    return calibrated.predict_proba, steps


def _averaged_members(model: Any) -> list[Any] | None:
    """Soft VotingClassifier, BaggingClassifier (members with predict_proba, on their feature subsets), and
    CalibratedClassifierCV (sigmoid over linear decision functions): one MemberAverage over the members' chains."""
    name = type(model).__name__
    members: list[tuple[Any, list[Any], np.ndarray | None]] = []
    if name == "VotingClassifier":
        if model.voting != "soft":
            return None
        weights = (np.ones(len(model.estimators_)) if model._weights_not_none is None
                   else np.asarray(model._weights_not_none, dtype=np.float64))
        divisor = float(weights.sum())
        for member in model.estimators_:
            steps = _probability_steps(member)
            if steps is None:
                return None
            members.append((member.predict_proba, steps, None))
    elif name == "BaggingClassifier":
        weights, divisor = np.ones(len(model.estimators_)), float(model.n_estimators)
        for member, columns in zip(model.estimators_, model.estimators_features_, strict=True):
            steps = _probability_steps(member)
            if steps is None or len(member.classes_) != len(model.classes_):
                return None
            members.append((member.predict_proba, steps, np.asarray(columns, dtype=np.int64)))
    else:
        weights = np.ones(len(model.calibrated_classifiers_))
        divisor = float(len(weights))
        for calibrated in model.calibrated_classifiers_:
            found = _calibrated_steps(calibrated)
            if found is None:
                return None
            members.append((found[0], found[1], None))
    return [MemberAverage(members, weights, divisor)]


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)


def _column(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).ravel()


def _step_chain(step: Any) -> list[Any] | None:
    """Bound steps of one fitted scikit-learn estimator, or None where none is derived."""
    name = type(step).__name__
    if not type(step).__module__.startswith("sklearn."):
        return None
    n = int(getattr(step, "n_features_in_", 0))
    zeros, ones = np.zeros(n), np.ones(n)
    if name == "StandardScaler":
        mean = zeros if step.mean_ is None else _column(step.mean_)
        scale = ones if step.scale_ is None else _column(step.scale_)
        return [Elementwise(mean, 1.0 / scale, zeros)]
    if name == "RobustScaler":
        centre = zeros if step.center_ is None else _column(step.center_)
        scale = ones if step.scale_ is None else _column(step.scale_)
        return [Elementwise(centre, 1.0 / scale, zeros)]
    if name == "MaxAbsScaler":
        return [Elementwise(zeros, 1.0 / _column(step.scale_), zeros)]
    if name == "MinMaxScaler" and not step.clip:
        return [Elementwise(zeros, _column(step.scale_), _column(step.min_))]
    if name == "SimpleImputer" and step.add_indicator is False:
        statistics = _column(step.statistics_)
        keep = np.arange(n) if step.keep_empty_features else np.flatnonzero(~np.isnan(statistics))
        return [Impute(np.nan_to_num(statistics), keep)]
    transformer = _feature_map_chain(name, step)
    if transformer is not None:
        return transformer
    if name == "PCA":
        weight = np.asarray(step.components_, dtype=np.float64).T
        if step.whiten:
            weight = weight / np.sqrt(_column(step.explained_variance_))
        return [Affine(weight, np.zeros(weight.shape[1]), _column(step.mean_))]
    if name in _LINEAR_REGRESSORS:
        coef = np.asarray(step.coef_, dtype=np.float64)
        weight = coef.reshape(1, -1).T if coef.ndim == 1 else coef.T
        return [Affine(weight, np.atleast_1d(np.asarray(step.intercept_, dtype=np.float64)))]
    if name == "LogisticRegression" or (name == "SGDClassifier" and step.loss == "log_loss"):
        return _logistic(np.asarray(step.coef_, dtype=np.float64), _column(step.intercept_),
                         softmax=name == "LogisticRegression")
    if name == "OneVsRestClassifier" and all(type(e).__name__ == "LogisticRegression" for e in step.estimators_):
        coef = np.vstack([np.asarray(e.coef_, dtype=np.float64) for e in step.estimators_])
        intercept = np.concatenate([_column(e.intercept_) for e in step.estimators_])
        return _logistic(coef, intercept, softmax=False)
    if name in _CHAIN_BUILDERS:
        return _CHAIN_BUILDERS[name](step)
    if name in ("SVR", "NuSVR") and step.kernel in ("rbf", "linear"):
        return [KernelExpansion(step.kernel, float(step._gamma), np.asarray(step.support_vectors_, dtype=np.float64),
                                np.asarray(step.dual_coef_, dtype=np.float64).T, _column(step.intercept_))]
    return _tree_chain(step)


_NAIVE_BAYES = ("MultinomialNB", "ComplementNB", "BernoulliNB", "CategoricalNB")


def _naive_bayes(model: Any) -> list[Any]:
    """The discrete naive Bayes joint log-likelihoods (`_joint_log_likelihood`) and their softmax: linear in X
    (MultinomialNB, ComplementNB: X @ feature_log_prob_.T (+ class_log_prior_); BernoulliNB: binarised X @
    (flp - neg_prob).T + class_log_prior_ + Σ neg_prob), or for CategoricalNB a sum of one table entry per feature
    (a tree sum: Σ_j max_c |feature_log_prob_[j][k, c]| + |class_log_prior_k| per class)."""
    name = type(model).__name__
    prior = _column(model.class_log_prior_)
    if name == "CategoricalNB":
        tables = [np.abs(np.asarray(t, dtype=np.float64)) for t in model.feature_log_prob_]
        return [TreeSum(sum(t.max(axis=1) for t in tables) + np.abs(prior), len(tables)), Softmax()]
    flp = np.asarray(model.feature_log_prob_, dtype=np.float64)
    if name == "BernoulliNB":
        with np.errstate(invalid="ignore", divide="ignore"):
            neg_prob = np.log(1 - np.exp(flp))
        steps: list[Any] = [] if model.binarize is None else [Binarize(float(model.binarize))]
        return [*steps, Affine((flp - neg_prob).T, prior + neg_prob.sum(axis=1)), Softmax()]
    intercept = prior if name == "MultinomialNB" or len(prior) == 1 else np.zeros(len(prior))
    return [Affine(flp.T, intercept), Softmax()]


def _quadratic_discriminant(model: Any) -> list[Any]:
    """`_decision_function`: -0.5 * (Σ ((X - means_) @ (rotations_ * scalings_ ** -0.5))² + Σ log scalings_) +
    log priors_ per class, then its softmax (predict_proba)."""
    transforms = [np.asarray(r, dtype=np.float64) * np.asarray(s, dtype=np.float64) ** -0.5
                  for r, s in zip(model.rotations_, model.scalings_, strict=True)]
    log_det = np.array([np.sum(np.log(np.asarray(s, dtype=np.float64))) for s in model.scalings_])
    return [QuadraticForms(np.asarray(model.means_, dtype=np.float64), transforms, log_det,
                           np.log(_column(model.priors_))), Softmax()]


def _feature_map_chain(name: str, step: Any) -> list[Any] | None:
    """Bound steps of the issue-14 feature maps (FunctionTransformer ufuncs, FastICA), or None."""
    if name == "FunctionTransformer" and not step.kw_args and isinstance(step.func, np.ufunc) and (
            step.func.__name__ in _UFUNC_BOUNDS):
        return [Ufunc(step.func.__name__)]
    if name == "PowerTransformer":  # scipy's maps, then the fitted StandardScaler when standardize
        steps: list[Any] = [PowerMap(step.method, _column(step.lambdas_))]
        if step.standardize:
            steps += _step_chain(step._scaler) or []
        return steps
    if name == "KernelPCA" and step.kernel in ("rbf", "linear"):
        return [_kernel_pca_expansion(step)]
    if name == "FastICA":  # (X - mean_) @ components_.T, centred only when whitening
        centre = _column(step.mean_) if step.whiten else None
        return [Affine(np.asarray(step.components_, dtype=np.float64).T, np.zeros(len(step.components_)), centre)]
    return None


def _kernel_pca_expansion(step: Any) -> KernelExpansion:
    """KernelPCA.transform as one kernel expansion per component: the KernelCenterer's centring of K(x, X_fit_)
    moved onto the scaled eigenvectors (rows: -K_fit_rows_ . A; the row mean: A - colsum(A) / n; K_fit_all_ ·
    colsum(A)), so the bound's magnitude Σ|K||α| + |b| covers both summation orders."""
    eigenvalues = _column(step.eigenvalues_)
    vectors = np.asarray(step.eigenvectors_, dtype=np.float64)
    alphas = np.zeros_like(vectors)
    nonzero = eigenvalues != 0
    alphas[:, nonzero] = vectors[:, nonzero] / np.sqrt(eigenvalues[nonzero])
    sums = alphas.sum(axis=0)
    centerer = step._centerer
    intercept = float(centerer.K_fit_all_) * sums - _column(centerer.K_fit_rows_) @ alphas
    return KernelExpansion(step.kernel, float(step.gamma_), np.asarray(step.X_fit_, dtype=np.float64),
                           alphas - sums / len(alphas), intercept)


# numpy's names of the ufuncs FunctionTransformer exports (np.abs is np.absolute)
_UFUNC_BOUNDS = ("absolute", "negative", "square", "sqrt", "reciprocal", "exp", "log", "log1p", "expm1", "tanh",
                 "floor", "ceil", "rint")


_LINEAR_REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor", "LinearSVR")


def _logistic(coef: np.ndarray, intercept: np.ndarray, softmax: bool) -> list[Any]:
    affine = Affine(coef.T, intercept)
    if coef.shape[0] == 1:
        return [affine, BinaryLogistic()]
    if softmax:  # scikit-learn >= 1.5: multiclass LogisticRegression is multinomial
        return [affine, Softmax()]
    return [affine, Activation("logistic"), Normalise()]  # one-vs-rest: sigmoid per class, normalised


def _network(model: Any) -> list[Any] | None:
    steps: list[Any] = []
    for index, (weight, bias) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        steps.append(Affine(np.asarray(weight, dtype=np.float64), _column(bias)))
        last = index == len(model.coefs_) - 1
        kind = model.out_activation_ if last else model.activation
        if last and kind == "softmax":
            steps.append(Softmax())
        elif last and kind == "logistic":
            if np.asarray(weight).shape[1] != 1:
                return None  # multilabel
            steps.append(BinaryLogistic())
        elif kind in ("identity", "relu", "tanh", "logistic") or (last and kind == "exp"):  # exp: loss='poisson'
            steps.append(Activation(kind))
        else:
            return None
    return steps


# Models whose whole chain one function builds from their fitted attributes (type name -> builder).
_CHAIN_BUILDERS: dict[str, Callable[[Any], list[Any] | None]] = {
    "QuadraticDiscriminantAnalysis": _quadratic_discriminant, **dict.fromkeys(_NAIVE_BAYES, _naive_bayes),
    "MLPClassifier": _network, "MLPRegressor": _network,
    **dict.fromkeys(("VotingClassifier", "BaggingClassifier", "CalibratedClassifierCV"), _averaged_members)}


def _tree_chain(model: Any) -> list[Any] | None:
    """Tree sums and their link: forests average leaf values (folded into the leaves), gradient boosting adds
    learning_rate × leaf values to its initial raw prediction, HistGradientBoosting adds leaves to its baseline."""
    name = type(model).__name__
    if hasattr(model, "_predictors"):
        per_column = np.zeros(len(model._predictors[0]))
        for iteration in model._predictors:
            for k, predictor in enumerate(iteration):
                per_column[k] += float(np.max(np.abs(predictor.nodes["value"])))
        per_column += np.abs(_column(model._baseline_prediction))
        return _with_link([TreeSum(per_column, len(model._predictors))], type(model._loss.link).__name__)
    if name.startswith("GradientBoosting"):
        if not (model.init_ == "zero" or type(model.init_).__name__.startswith("Dummy")):
            return None
        stages = np.asarray(model.estimators_, dtype=object)
        per_column = np.array([sum(float(np.max(np.abs(e.tree_.value))) for e in stages[:, k])
                               for k in range(stages.shape[1])]) * float(model.learning_rate)
        initial = np.zeros(stages.shape[1]) if model.init_ == "zero" else np.abs(
            np.asarray(model._raw_predict_init(np.zeros((1, model.n_features_in_))), dtype=np.float64).ravel())
        return _with_link([TreeSum(per_column + initial, stages.shape[0])], type(model._loss.link).__name__)
    if not _is(model, _FLOAT32_TREE_MODELS):
        return None
    trees = [e.tree_ for e in model.estimators_] if hasattr(model, "estimators_") else [model.tree_]
    values = [np.abs(np.asarray(t.value, dtype=np.float64)) for t in trees]  # (nodes, n_outputs, n_classes)
    # classifiers: one column per class (single output); regressors: one per output
    per_column = sum(v.max(axis=0).reshape(-1) for v in values) / len(trees)
    return [TreeSum(np.asarray(per_column, dtype=np.float64), len(trees))]


def _with_link(steps: list[Any], link: str) -> list[Any] | None:
    links: dict[str, list[Any]] = {"IdentityLink": [], "LogitLink": [BinaryLogistic()],
                                   "MultinomialLogit": [Softmax()], "LogLink": [Activation("exp")]}
    if link not in links:
        return None
    if link == "LogLink":
        return None  # exp of a tree sum: the raw sum is not recomputed here, so no bound (yet)
    return steps + links[link]


ADAPTER = ScikitLearnAdapter()
