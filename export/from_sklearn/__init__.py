"""scikit-learn adapter: registers every supported scikit-learn type in the front-end registry (`export.frontends`)
with its converter (one module per family in this package), family and per-format support."""

from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.decomposition import PCA, FastICA, KernelPCA, TruncatedSVD
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.ensemble import (
    BaggingClassifier,
    BaggingRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.feature_selection import (
    RFE,
    RFECV,
    GenericUnivariateSelect,
    SelectFdr,
    SelectFpr,
    SelectFromModel,
    SelectFwe,
    SelectKBest,
    SelectPercentile,
    VarianceThreshold,
)
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import (
    ARDRegression,
    BayesianRidge,
    ElasticNet,
    ElasticNetCV,
    GammaRegressor,
    HuberRegressor,
    Lars,
    LarsCV,
    Lasso,
    LassoCV,
    LassoLars,
    LassoLarsCV,
    LassoLarsIC,
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    OrthogonalMatchingPursuit,
    OrthogonalMatchingPursuitCV,
    PassiveAggressiveClassifier,
    PassiveAggressiveRegressor,
    Perceptron,
    PoissonRegressor,
    QuantileRegressor,
    RANSACRegressor,
    Ridge,
    RidgeClassifier,
    RidgeClassifierCV,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
    TheilSenRegressor,
    TweedieRegressor,
)
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.multioutput import MultiOutputRegressor, RegressorChain
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.neighbors import (
    KNeighborsClassifier,
    KNeighborsRegressor,
    NearestCentroid,
    RadiusNeighborsClassifier,
    RadiusNeighborsRegressor,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVC, NuSVR, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from export.from_sklearn import (
    calibration,
    composition,
    dataframe,
    dict_vectorizer,
    discriminant_analysis,
    ensemble,
    feature_selection,
    linear,
    meta_classifiers,
    naive_bayes,
    neighbors,
    neural_network,
    preprocessing,
    svm,
    text,
    trees,
)
from export.frontends import Converter, Family, FormatSupport, register, register_model_builder

_LABELS_ONLY = "labels only (scikit-learn has no predict_proba)"
_HGB_NOTE = ("native categorical splits on DataFrame string columns (category / str; unknown = missing as in "
             "scikit-learn), one membership lookup per distinct split set; numeric-coded categoricals refused")
_LINEAR_PREDICT = "X @ coef_.T + intercept_"
_RADIUS_NOTE = ("within radius (key <= radius key, as scikit-learn's tree query); weights uniform / distance (an "
                "exact 0 distance takes all the weight); euclidean, manhattan, chebyshev, minkowski p; brute-force "
                "Euclidean search refused")
_KNN_NOTE = ("weights uniform / distance (scikit-learn's zero-distance rule); euclidean, manhattan, chebyshev, "
             "minkowski p; equal distances at the k-th place: the lower training index (scikit-learn's tree search "
             "keeps the one it met first); distance weights with brute-force Euclidean search refused")
_EXP_LINK = "exp(X @ coef_ + intercept_) (log link)"
_TEXT_NOTE = ("documents (a list/Series, or one ColumnTransformer column) -> scikit-learn's word analyzer exactly: "
              "lowercase, strip_accents ascii/unicode, token_pattern (?u)\\b\\w\\w+\\b or (?u)\\b\\w+\\b, "
              "ngram_range, stop_words, binary, vocabulary_ (max_df/min_df/max_features folded in); analyzer "
              "char/char_wb, other token patterns, preprocessor/tokenizer callables refused")
_COREML_COUNTS = ("input: the [String: Double] term counts ios_stub's TextFeatures computes from the text "
                  "(rules in NAME.text.json)")
_COREML_NO_EXP = FormatSupport("none", "Core ML's GLMRegressor has no exp link (a neural-network exp layer is float32)")

# (class, family, converter, notes) — exact-type lookup; a subclass may override predict, so it is refused.
_TABLE: tuple[tuple[type, Family, Converter, str], ...] = (
    (DecisionTreeClassifier, "tree", trees.decision_tree_to_ir, "float32 thresholds snapped for float64 inputs"),
    (DecisionTreeRegressor, "tree", trees.decision_tree_to_ir, "float32 thresholds snapped for float64 inputs"),
    (RandomForestClassifier, "tree", trees.forest_to_ir, "averaged probabilities folded into leaves"),
    (RandomForestRegressor, "tree", trees.forest_to_ir, "averaging folded into leaves"),
    (ExtraTreesClassifier, "tree", trees.forest_to_ir, "averaged probabilities folded into leaves"),
    (ExtraTreesRegressor, "tree", trees.forest_to_ir, "averaging folded into leaves"),
    (GradientBoostingClassifier, "tree", trees.gradient_boosting_to_ir, "learning rate folded into leaves"),
    (GradientBoostingRegressor, "tree", trees.gradient_boosting_to_ir, "learning rate folded into leaves"),
    (HistGradientBoostingClassifier, "tree", trees.hist_gradient_boosting_to_ir, _HGB_NOTE),
    (HistGradientBoostingRegressor, "tree", trees.hist_gradient_boosting_to_ir, _HGB_NOTE),
    (LinearRegression, "linear", linear.linear_regressor_to_ir, "multi-target supported"),
    (Ridge, "linear", linear.linear_regressor_to_ir, "multi-target supported"),
    (Lasso, "linear", linear.linear_regressor_to_ir, "multi-target supported"),
    (ElasticNet, "linear", linear.linear_regressor_to_ir, "multi-target supported"),
    (SGDRegressor, "linear", linear.linear_regressor_to_ir, ""),
    (LinearSVR, "linear", linear.linear_regressor_to_ir, ""),
    *((cls, "linear", linear.linear_regressor_to_ir, _LINEAR_PREDICT) for cls in (
        HuberRegressor, QuantileRegressor, BayesianRidge, ARDRegression, Lars, LarsCV, LassoLars, LassoLarsCV,
        LassoLarsIC, OrthogonalMatchingPursuit, OrthogonalMatchingPursuitCV, TheilSenRegressor,
        PassiveAggressiveRegressor, RidgeCV, LassoCV, ElasticNetCV)),
    *((cls, "linear", linear.linear_regressor_to_ir, "multi-target: X @ coef_.T + intercept_") for cls in (
        MultiTaskLasso, MultiTaskLassoCV, MultiTaskElasticNet, MultiTaskElasticNetCV)),
    (PoissonRegressor, "linear", linear.glm_to_ir, _EXP_LINK),
    (GammaRegressor, "linear", linear.glm_to_ir, _EXP_LINK),
    (TweedieRegressor, "linear", linear.glm_to_ir, "link identity (power <= 0 with link='auto') or log (exp)"),
    (RANSACRegressor, "composition", ensemble.ransac_regressor_to_ir, "exported as its refitted estimator_"),
    (LogisticRegression, "linear", linear.logistic_regression_to_ir,
     "binary: logistic; K>2: multinomial softmax (one dense layer)"),
    (OneVsRestClassifier, "linear", linear.one_vs_rest_to_ir,
     "members: LogisticRegression / SGDClassifier / LinearSVC / Perceptron / RidgeClassifier; probabilities only "
     "for logistic members (sigmoid, normalised); multilabel refused"),
    (LogisticRegressionCV, "linear", linear.logistic_regression_to_ir,
     "binary: logistic; K>2: multinomial softmax (one dense layer)"),
    (LinearDiscriminantAnalysis, "linear", linear.logistic_regression_to_ir,
     "classifier: decision_function X @ coef_.T + intercept_; binary expit, K>2 softmax; as a Pipeline / "
     "ColumnTransformer step: transform (svd: (X - xbar_) @ scalings_, eigen: X @ scalings_; a few ulp)"),
    (SGDClassifier, "linear", linear.linear_classifier_to_ir,
     "probabilities only for loss='log_loss'; loss='modified_huber' exported as labels only"),
    (RidgeClassifier, "linear", linear.linear_classifier_to_ir, _LABELS_ONLY + "; multilabel refused"),
    (RidgeClassifierCV, "linear", linear.linear_classifier_to_ir, _LABELS_ONLY + "; multilabel refused"),
    (PassiveAggressiveClassifier, "linear", linear.linear_classifier_to_ir, _LABELS_ONLY),
    (LinearSVC, "linear", linear.linear_classifier_to_ir, _LABELS_ONLY),
    (Perceptron, "linear", linear.linear_classifier_to_ir, _LABELS_ONLY),
    (SVC, "kernel", svm.svc_to_ir,
     "kernels linear/rbf/poly/sigmoid; probabilities only with probability=True; break_ties=True (K > 2): label = "
     "argmax of the OvR-transformed decision function"),
    (NuSVC, "kernel", svm.svc_to_ir,
     "kernels linear/rbf/poly/sigmoid; probabilities only with probability=True; break_ties=True (K > 2): label = "
     "argmax of the OvR-transformed decision function"),
    (SVR, "kernel", svm.svr_to_ir, "kernels linear/rbf/poly/sigmoid"),
    (OneClassSVM, "kernel", svm.one_class_svm_to_ir,
     "score = decision_function (libsvm's Σ αK − ρ), label = predict (+1 iff score > 0)"),
    (IsolationForest, "tree", trees.isolation_forest_to_ir,
     "score = decision_function: path lengths + c(n_node_samples) per leaf summed, -2^(-depths / (n_estimators · "
     "c(max_samples))) - offset_; label = predict (+1 iff score >= 0); max_features subsets; float32 thresholds "
     "snapped"),
    (NuSVR, "kernel", svm.svr_to_ir, "kernels linear/rbf/poly/sigmoid"),
    (KNeighborsClassifier, "neighbours", neighbors.kneighbors_classifier_to_ir, _KNN_NOTE),
    (KNeighborsRegressor, "neighbours", neighbors.kneighbors_regressor_to_ir, _KNN_NOTE + "; multi-target"),
    (RadiusNeighborsRegressor, "neighbours", neighbors.radius_neighbors_regressor_to_ir, _RADIUS_NOTE
     + "; no neighbour: NaN, as scikit-learn"),
    (RadiusNeighborsClassifier, "neighbours", neighbors.radius_neighbors_classifier_to_ir, _RADIUS_NOTE
     + "; no neighbour: outlier_label ('most_frequent' or a class; None and labels outside classes_ refused)"),
    (NearestCentroid, "neighbours", neighbors.nearest_centroid_to_ir,
     "Euclidean; uniform priors (default): labels only (scikit-learn's predict is the raw-space nearest centroid, "
     "its predict_proba another, std-normalised space); other priors: labels and probabilities of the "
     "normalised discriminant; a row equidistant from two centroids to rounding may take the other (scikit-learn's "
     "‖x‖² - 2x·c + ‖c‖² distances are not reproduced)"),
    (GaussianNB, "naive_bayes", naive_bayes.gaussian_nb_to_ir, "priors and var_smoothing as fitted"),
    (MultinomialNB, "naive_bayes", naive_bayes.count_nb_to_ir,
     "a linear model on the counts (feature_log_prob_, class_log_prior_) under a softmax head"),
    (ComplementNB, "naive_bayes", naive_bayes.count_nb_to_ir,
     "a linear model on the counts (feature_log_prob_; norm=True folded in) under a softmax head"),
    (BernoulliNB, "naive_bayes", naive_bayes.bernoulli_nb_to_ir,
     "binarize threshold as one double stump per feature (x > binarize), log-probabilities summed; "
     "binarize=None: a linear model on X"),
    (CategoricalNB, "naive_bayes", naive_bayes.categorical_nb_to_ir,
     "category = int(x) (scikit-learn truncates toward zero); min_categories as fitted; indices scikit-learn "
     "refuses (negative, >= n_categories_, NaN) get category 0's / the last category's log-probabilities"),
    (QuadraticDiscriminantAnalysis, "linear", discriminant_analysis.quadratic_discriminant_to_ir,
     "per-class rotations_ * scalings_ ** -0.5 quadratic forms, in scikit-learn's order; probabilities by softmax"),
    (MLPClassifier, "network", neural_network.mlp_classifier_to_ir, "binary and multiclass; multilabel refused"),
    (MLPRegressor, "network", neural_network.mlp_regressor_to_ir,
     "multi-target supported; loss='poisson': exp output (the head's exp link)"),
    (StandardScaler, "transform", preprocessing.standard_scaler_to_ir,
     "exact in ONNX; Core ML multiplies by 1/scale_ (≤1 ulp, its scaler cannot divide)"),
    (MinMaxScaler, "transform", preprocessing.min_max_scaler_to_ir, "clip=True clamps to feature_range (NaN kept)"),
    (MaxAbsScaler, "transform", preprocessing.max_abs_scaler_to_ir, ""),
    (RobustScaler, "transform", preprocessing.robust_scaler_to_ir, ""),
    (Normalizer, "transform", preprocessing.normalizer_to_ir, "l1, l2, max"),
    (SimpleImputer, "transform", preprocessing.simple_imputer_to_ir,
     "numeric columns; string columns (most_frequent/constant) folded into the encoder that follows; "
     "add_indicator=True appends the MissingIndicator block; dropped all-missing columns refused"),
    (OneHotEncoder, "transform", preprocessing.one_hot_encoder_to_ir,
     "string columns of a DataFrame (ColumnTransformer part): every drop / min_frequency / max_categories / "
     "handle_unknown / sparse_output setting, NaN a category, \"\" = missing; numeric columns: integer-valued "
     "categories without drop/infrequent; unknown values under handle_unknown='error' → all zeros (sklearn raises)"),
    (OrdinalEncoder, "transform", preprocessing.string_encoder_to_ir,
     "string columns of a DataFrame (ColumnTransformer part): unknown_value, encoded_missing_value (NaN too), "
     "infrequent categories; handle_unknown='error' → unknown gives NaN (sklearn raises)"),
    (TargetEncoder, "transform", preprocessing.string_encoder_to_ir,
     "string columns of a DataFrame (ColumnTransformer part): binary, multiclass, continuous; exports transform "
     "(fit_transform is cross-fitted); unknown → target_mean_"),
    (PCA, "transform", preprocessing.pca_to_ir, "whiten supported"),
    (TruncatedSVD, "transform", preprocessing.truncated_svd_to_ir, "X @ components_.T"),
    *((cls, "transform", feature_selection.selector_to_ir, "column mask (get_support)") for cls in (
        VarianceThreshold, SelectKBest, SelectPercentile, SelectFpr, SelectFdr, SelectFwe, GenericUnivariateSelect,
        SelectFromModel)),
    (RFE, "composition", feature_selection.recursive_elimination_to_ir,
     "column mask, then estimator_ (any supported model)"),
    (RFECV, "composition", feature_selection.recursive_elimination_to_ir,
     "column mask, then estimator_ (any supported model)"),
    (VotingRegressor, "composition", ensemble.voting_regressor_to_ir,
     "weighted mean of supported single-target regressors (weights folded: a few ulp)"),
    (BaggingRegressor, "composition", ensemble.bagging_regressor_to_ir,
     "mean of members on their feature subsets (a few ulp)"),
    (StackingRegressor, "composition", ensemble.stacking_regressor_to_ir,
     "members' predictions (+ X with passthrough) into final_estimator_"),
    (MultiOutputRegressor, "composition", ensemble.multi_output_regressor_to_ir,
     "one single-target regressor per output"),
    (RegressorChain, "composition", ensemble.regressor_chain_to_ir,
     "members read X and the earlier members' predictions (recomputed: up to 5 members); order_ as fitted"),
    (TransformedTargetRegressor, "composition", composition.transformed_target_regressor_to_ir,
     "inverse_func np.exp (func np.log) or np.expm1 (np.log1p) as the prediction's link; transformer "
     "StandardScaler/RobustScaler/MaxAbsScaler as an affine map after the regressor"),
    (VotingClassifier, "composition", meta_classifiers.voting_classifier_to_ir,
     "soft: weighted mean of members' predict_proba in numpy's order; hard: weighted label votes added as "
     "np.bincount does, ties to the lowest class; any supported classifier"),
    (StackingClassifier, "composition", meta_classifiers.stacking_classifier_to_ir,
     "stack_method_ per member (predict_proba, binary first column dropped; decision_function; predict), "
     "passthrough; final_estimator_ any supported classifier"),
    (BaggingClassifier, "composition", meta_classifiers.bagging_classifier_to_ir,
     "members' predict_proba (or label votes without one) on estimators_features_, summed in order / n_estimators; "
     "members missing a class scattered to its columns"),
    (OneVsOneClassifier, "composition", meta_classifiers.one_vs_one_to_ir,
     "pairwise members' votes + confidences (decision_function, else predict_proba) by scikit-learn's "
     "_ovr_decision_function, in its order; labels only (no predict_proba)"),
    (CalibratedClassifierCV, "composition", calibration.calibrated_classifier_cv_to_ir,
     "sigmoid and isotonic (np.interp, exact), ensemble=True/False; base response decision_function or "
     "predict_proba as scikit-learn picks it (SVC/NuSVC: libsvm's values, one-vs-rest shaped for K > 2)"),
    (Binarizer, "transform", preprocessing.binarizer_to_ir, "x > threshold (strictly), exact comparisons"),
    (KBinsDiscretizer, "transform", preprocessing.k_bins_discretizer_to_ir,
     "ordinal / onehot / onehot-dense, every strategy: np.searchsorted(bin_edges_[j][1:-1], x, side='right') as "
     "exact comparisons; dtype=float32 refused"),
    (MissingIndicator, "transform", preprocessing.missing_indicator_to_ir,
     "features missing-only / all, NaN or a numeric missing_values; error_on_new=True: a new missing column gives "
     "its indicator (sklearn raises)"),
    (FastICA, "transform", preprocessing.fast_ica_to_ir, "(X - mean_) @ components_.T (a few ulp)"),
    (KernelPCA, "transform", preprocessing.kernel_pca_to_ir,
     "kernels linear / rbf / poly / sigmoid / cosine, centring folded into one kernel expansion per component "
     "(a few ulp); precomputed / callable kernels refused"),
    (PolynomialFeatures, "transform", preprocessing.polynomial_features_to_ir,
     "degree / (min, max) degree, interaction_only, include_bias; powers_ column order; scikit-learn's products "
     "bit for bit"),
    (PowerTransformer, "transform", preprocessing.power_transformer_to_ir,
     "yeo-johnson / box-cox as scipy computes them, standardize; log1p/expm1 forms within a few ulp (bound: "
     "parity.bounds.PowerMap)"),
    (SplineTransformer, "transform", preprocessing.spline_transformer_to_ir,
     "B-splines of any degree / knots, extrapolation constant / linear / continue / periodic / error (error: "
     "values outside the knots are extrapolated, sklearn raises), include_bias, handle_missing; scipy's de Boor "
     "recursion reproduced"),
    (QuantileTransformer, "transform", preprocessing.quantile_transformer_to_ir,
     "uniform: numpy's np.interp averaged both ways and the bound rule, bit for bit; normal: + scipy's Cephes "
     "ndtri and clip (a few ulp: another libm's log)"),
    (FunctionTransformer, "transform", preprocessing.function_transformer_to_ir,
     "func None or a numpy ufunc: abs, negative, square, sqrt, reciprocal, exp, log, log1p, expm1, tanh, floor, "
     "ceil, rint (no kw_args); exp/log/tanh/log1p/expm1 within a few ulp"),
    (Pipeline, "composition", composition.pipeline_to_ir,
     "'passthrough' steps skipped; any step may be a model only at the end"),
    (ColumnTransformer, "composition", composition.column_transformer_to_ir,
     "columns by name / index / make_column_selector (resolved at fit); sparse output densified; remainder "
     "passthrough/drop/transformer; one input per DataFrame column; transformer_weights refused"),
    (CountVectorizer, "transform", text.vectorizer_to_ir, _TEXT_NOTE),
    (TfidfVectorizer, "transform", text.vectorizer_to_ir, _TEXT_NOTE + "; use_idf, smooth_idf, sublinear_tf, norm"),
    (HashingVectorizer, "transform", text.vectorizer_to_ir,
     _TEXT_NOTE.replace("vocabulary_ (max_df/min_df/max_features folded in)", "murmurhash3_32 with alternate_sign")
     + "; norm"),
    (TfidfTransformer, "transform", text.tfidf_transformer_to_ir,
     "after a vectorizer (folded into its counts; sublinear_tf too) or on a count matrix (idf_ multiply, norm; "
     "sublinear_tf refused there)"),
    (DictVectorizer, "transform", dict_vectorizer.dict_vectorizer_to_ir,
     "alone or first in a Pipeline fitted on dicts; feature_names_/vocabulary_, separator (string values are "
     "\"key=value\" keys of value 1), sparse or dense, sort; unknown keys ignored; input contract in README "
     "\"DictVectorizer inputs\""),
)


# Per-format support that is not "exact IR writer" (data, one place; `export.to_onnx.route` must agree, tested).
_ONNX: dict[type, FormatSupport] = {
    Pipeline: FormatSupport("ir", "skl2onnx when a step has no exact ONNX writer"),
}
_OVR_UNDERFLOW = ("K > 2: rows where every decision value is below about -745 get NaN probabilities (GLMClassifier "
                  "divides the underflowed sigmoids' sum, 0, by itself); scikit-learn gives {}")
_COREML_NO_ANOMALY = ("the Core ML interface names one predicted feature, so an app cannot tell the anomaly score "
                      "from the ±1 label")
_BINARY_SVC_MEMBER = ("binary SVC members' probabilities refused (Core ML returns libsvm's Platt value uncoupled, "
                      "up to 0.5 % from scikit-learn)")
_COREML: dict[type, FormatSupport] = {
    OneClassSVM: FormatSupport("none", _COREML_NO_ANOMALY),
    IsolationForest: FormatSupport("none", _COREML_NO_ANOMALY + "; and 2^x has no double-precision Core ML encoding"),
    SplineTransformer: FormatSupport("none", "Core ML classic has no double-precision piecewise polynomial (trees are "
                                             "piecewise constant, GLMs affine)"),
    PowerTransformer: FormatSupport("none", "log/exp exist in Core ML classic only as float32 neural-network unary "
                                            "layers"),
    QuantileTransformer: FormatSupport("none", "Core ML classic has no double-precision piecewise-linear map (trees "
                                               "are piecewise constant, GLMs affine) nor an inverse normal CDF"),
    PolynomialFeatures: FormatSupport("none", "Core ML classic multiplies inputs only in float32 neural-network "
                                              "layers (no double-precision product)"),
    FunctionTransformer: FormatSupport("ir", "func=None only: Core ML classic has numpy's functions only as float32 "
                                             "neural-network unary layers"),
    MinMaxScaler: FormatSupport("ir", "clip=True refused: Core ML has no double-precision clamp (the neural "
                                      "network's clip layer is float32)"),
    OneVsRestClassifier: FormatSupport("ir", _OVR_UNDERFLOW.format("zeros")),
    SGDClassifier: FormatSupport("ir", _OVR_UNDERFLOW.format("1/K") + " (loss='log_loss')"),
    SVC: FormatSupport("ir", "break_ties=True with K > 2 refused: supportVectorClassifier labels by libsvm's vote"),
    NuSVC: FormatSupport("ir", "break_ties=True with K > 2 refused: supportVectorClassifier labels by libsvm's vote"),
    MLPRegressor: FormatSupport("ir", "float32 network (innerProduct); loss='poisson' adds a float32 unary EXP stage"),
    TransformedTargetRegressor: FormatSupport("ir", "exp/expm1 links refused (Core ML's double models have no exp; a "
                                                    "tree ensemble's exp stage is float32, expm1 none); scaler "
                                                    "inverses exact"),
    KNeighborsClassifier: FormatSupport("ir", "weights='uniform' with the Euclidean metric only, labels only: "
                                              "kNearestNeighborsClassifier has squared-Euclidean distance alone, "
                                              "float32 samples and no probability output (near ties may flip)"),
    RadiusNeighborsRegressor: FormatSupport("none", "Core ML's only neighbour model takes a fixed k"),
    RadiusNeighborsClassifier: FormatSupport("none", "Core ML's only neighbour model takes a fixed k"),
    KNeighborsRegressor: FormatSupport("none", "Core ML's only neighbour model is a classifier (float32 samples, "
                                               "squared-Euclidean distance); no exact encoding of the weighted mean"),
    NearestCentroid: FormatSupport("ir", "two classes only: K > 2 labels/probabilities over computed distances have "
                                         "no double-precision Core ML encoding (ONNX takes any K)"),
    VotingClassifier: FormatSupport("ir", "soft: the averaged probabilities pass a one-layer identity "
                                          "neuralNetworkClassifier (Core ML has no double classifier over computed "
                                          "probabilities): float32 probabilities, labels ranked in float32; "
                                          "hard: weights whose vote sums round (e.g. 0.1) refused; "
                                          + _BINARY_SVC_MEMBER),
    StackingClassifier: FormatSupport("ir", _BINARY_SVC_MEMBER),
    BaggingClassifier: FormatSupport("ir", "the averaged probabilities pass a one-layer identity "
                                           "neuralNetworkClassifier: float32 probabilities, labels ranked in float32; "
                                           + _BINARY_SVC_MEMBER),
    OneVsOneClassifier: FormatSupport("none", "the confidence transform s / (3 (|s| + 1)) needs an absolute value "
                                              "and a division: Core ML's double models (GLM, trees) have neither"),
    CalibratedClassifierCV: FormatSupport("ir", "sigmoid only (isotonic's interpolation has no exact Core ML "
                                                "encoding: refused), multiclass SVC/NuSVC bases refused (their "
                                                "one-vs-rest decision_function needs |s| and a division); the mean "
                                                "over ensemble=True folds passes a float32 identity network "
                                                "classifier; "
                                                + _OVR_UNDERFLOW.format("1/K")),
    GaussianNB: FormatSupport("ir", "two classes only: Core ML has no double-precision softmax over computed scores, "
                                    "so K > 2 is refused (ONNX takes any K)"),
    PoissonRegressor: _COREML_NO_EXP,
    GammaRegressor: _COREML_NO_EXP,
    TweedieRegressor: FormatSupport("ir", "identity link only; log link refused (no exp link in GLMRegressor)"),
    QuadraticDiscriminantAnalysis: FormatSupport("ir", "two classes only: Core ML has no double-precision softmax "
                                                       "over computed scores, so K > 2 is refused (ONNX takes any K)"),
    BernoulliNB: FormatSupport("ir", "binarize=None: the linear form's softmax is a float32 network layer "
                                     "(checked against its float32 bound); with a threshold: double trees"),
    CountVectorizer: FormatSupport("ir", _COREML_COUNTS),
    TfidfVectorizer: FormatSupport("ir", _COREML_COUNTS + "; sublinear_tf=True refused (no log in the classic "
                                         "models; a neural-network log is float32)"),
    HashingVectorizer: FormatSupport("none", "no vocabulary for Core ML's dictionary input (ONNX only)"),
    TfidfTransformer: FormatSupport("ir", "sublinear_tf=True refused (no log in the classic models)"),
}

for _cls, _family, _converter, _notes in _TABLE:
    register(_cls, _family, _converter, _notes, coreml=_COREML.get(_cls, FormatSupport("ir")),
             onnx=_ONNX.get(_cls, FormatSupport("ir")))

composition.AS_TRANSFORM[LinearDiscriminantAnalysis] = linear.lda_transform_to_ir

register_model_builder(dataframe.dataframe_model)
register_model_builder(text.documents_model)
register_model_builder(dict_vectorizer.dicts_model)
register_model_builder(dataframe.hist_gradient_boosting_model)
