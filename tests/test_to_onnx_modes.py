"""The ONNX tree writer emits one branch mode (BRANCH_LEQ) so ONNX Runtime takes its same-mode fast path, and the
re-encoding of `x < t` as `x <= nextafter(t, -inf)` keeps scikit-learn's branch for every double input."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnx import numpy_helper
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

from export import ir
from export.frontends import to_ir
from export.to_onnx import OnnxOptions, to_onnx


def test_every_node_is_less_equal_and_rounding_boundaries_stay_exact() -> None:
    X, y = load_wine(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, y)
    model = to_ir(forest)
    node = model.output.node
    assert (node.mode[~node.is_leaf] == ir.BranchMode.LT).any()  # the IR does use LT: the test is not vacuous
    onnx_model = to_onnx(forest, model, OnnxOptions(input_dtype="float64")).model
    (ensemble,) = [n for n in onnx_model.graph.node if n.op_type == "TreeEnsemble"]
    modes = numpy_helper.to_array(next(a.t for a in ensemble.attribute if a.name == "nodes_modes"))
    assert set(modes.tolist()) == {0}  # BRANCH_LEQ
    # Rows at every snapped boundary m (the float32 rounding midpoint) and its double neighbours: scikit-learn
    # decides them through float32(x) <= t; LT nodes now test x <= nextafter(m, -inf) instead of x < m.
    branch = ~node.is_leaf
    features, boundaries = node.feature[branch], node.threshold[branch]
    rng = np.random.default_rng(0)
    values = np.concatenate([boundaries, np.nextafter(boundaries, np.inf), np.nextafter(boundaries, -np.inf)])
    rows = X[rng.integers(0, len(X), values.size)].copy()
    rows[np.arange(values.size), np.tile(features, 3)] = values
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(["classLabel", "classProbability"], {"input": rows})
    np.testing.assert_array_equal(label, forest.predict(rows))
    np.testing.assert_allclose(proba, forest.predict_proba(rows), rtol=0, atol=1e-12)
