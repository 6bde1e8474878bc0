"""Safe loading: .skops against the reviewed allowlist, pickle only with a matching SHA-256, corrupt files refused."""

from __future__ import annotations

import hashlib
import pickle
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import FunctionTransformer

from export.errors import InputFileError, UntrustedModelError
from export.loading import dump_skops, load_model, sha256_file

X, Y = load_iris(return_X_y=True)


def _forest() -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, Y)


@pytest.mark.parametrize("estimator", [
    _forest(),
    HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, Y),
    KNeighborsClassifier(algorithm="kd_tree").fit(X, Y),
    LogisticRegression(max_iter=500).fit(X, Y),
], ids=lambda e: type(e).__name__)
def test_skops_round_trip_predicts_identically(tmp_path: Path, estimator: object) -> None:
    path = tmp_path / "m.skops"
    sio.dump(estimator, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))


def test_dump_skops_is_byte_reproducible(tmp_path: Path) -> None:
    model = _forest()
    dump_skops(model, tmp_path / "a.skops")
    dump_skops(model, tmp_path / "b.skops")
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "b.skops").read_bytes()
    np.testing.assert_array_equal(load_model(tmp_path / "a.skops").predict(X), model.predict(X))


def _custom_function(x: np.ndarray) -> np.ndarray:
    return x + 1


def test_untrusted_type_in_skops_is_named_and_refused(tmp_path: Path) -> None:
    path = tmp_path / "custom.skops"
    sio.dump(FunctionTransformer(_custom_function).fit(X), path)
    with pytest.raises(UntrustedModelError, match=r"_custom_function.*allowed beyond skops' defaults"):
        load_model(path)


def test_corrupt_and_truncated_skops_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.skops"
    sio.dump(_forest(), good)
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputFileError, match="truncated.skops"):
        load_model(truncated)
    not_zip = tmp_path / "text.skops"
    not_zip.write_text("hello")
    with pytest.raises(InputFileError, match="not a readable .skops"):
        load_model(not_zip)
    broken_schema = tmp_path / "schema.skops"
    with zipfile.ZipFile(broken_schema, "w") as archive:
        archive.writestr("schema.json", "{not json")
    with pytest.raises(InputFileError, match="schema.skops"):
        load_model(broken_schema)


def corrupt_child_index(tree: object) -> None:
    """What a crafted file can do: point a child index of `tree` (a sklearn Tree) past its node array."""
    state = tree.__getstate__()  # type: ignore[attr-defined]
    nodes = state["nodes"].copy()
    branch = np.flatnonzero(nodes["left_child"] != -1)[0]
    nodes["left_child"][branch] = tree.node_count + 1000  # type: ignore[attr-defined]
    state["nodes"] = nodes
    tree.__setstate__(state)  # type: ignore[attr-defined]


def test_out_of_range_tree_index_is_refused_before_predict(tmp_path: Path) -> None:
    # A crafted file can point a child index past the node array; scikit-learn would read out of bounds.
    model = _forest()
    corrupt_child_index(model.estimators_[0].tree_)
    path = tmp_path / "evil.skops"
    sio.dump(model, path)
    with pytest.raises(InputFileError, match="corrupt: a tree child index is out of range"):
        load_model(path)


def test_pickle_needs_trust_and_the_exact_sha256(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    with path.open("wb") as handle:
        pickle.dump(_forest(), handle)
    digest = sha256_file(path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(UntrustedModelError, match=f"--trust-pickle {digest}"):
        load_model(path)
    with pytest.raises(UntrustedModelError, match="not the trusted"):
        load_model(path, trust_pickle="0" * 64)
    with pytest.raises(UntrustedModelError, match="64-hex-digit"):
        load_model(path, trust_pickle="abc")
    assert load_model(path, trust_pickle=digest.upper()).n_features_in_ == 4


def test_pickle_payload_never_runs_without_trust(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.joblib"
    joblib.dump(Payload(), path)
    with pytest.raises(UntrustedModelError):
        load_model(path)
    assert not marker.exists()


def test_missing_file_and_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        load_model(tmp_path / "nope.skops")
    other = tmp_path / "model.txt"
    other.write_text("x")
    with pytest.raises(InputFileError, match=r"unknown kind '.txt'; allowed: .skops, .pkl"):
        load_model(other)


def test_a_file_holding_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "array.skops"
    sio.dump({"not": "a model"}, path)
    with pytest.raises(InputFileError, match="not a scikit-learn estimator"):
        load_model(path)
