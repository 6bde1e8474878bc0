"""`mlexport demo`: the committed artifacts/demo/ and artifacts/demo_dataframe/ are exactly what the demo regenerates,
and both work end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from export.cli import main
from export.manifest import package_versions

DEMO = Path(__file__).resolve().parents[1] / "artifacts" / "demo"
DEMO_DATAFRAME = DEMO.with_name("demo_dataframe")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_export_passes_parity_and_verifies(regenerated: Path) -> None:
    manifest = json.loads((regenerated / "manifest.json").read_text())
    assert manifest["parity"]["verdict"] == "passed"
    assert manifest["signature"]["class_labels"] == ["setosa", "versicolor", "virginica"]
    assert main(["verify", str(regenerated)]) == 0
    assert main(["verify", str(DEMO)]) == 0


@pytest.mark.parametrize("committed_dir", [DEMO, DEMO_DATAFRAME], ids=["iris", "dataframe"])
def test_committed_demo_is_what_the_demo_regenerates(regenerated: Path, committed_dir: Path) -> None:
    fresh = regenerated.with_name(f"{regenerated.name}_dataframe") if committed_dir == DEMO_DATAFRAME else regenerated
    committed = json.loads((committed_dir / "manifest.json").read_text())
    files = sorted(p.name for p in committed_dir.iterdir())
    assert files == sorted(p.name for p in fresh.iterdir())
    if committed["created_by"] != package_versions():
        # Other library versions legitimately give other bytes (a new scikit-learn may fit another forest); the
        # export above still had to pass parity. Regenerate with `mlexport demo --out artifacts/demo`.
        pytest.skip(f"installed versions differ from the ones {committed_dir.name} was made with: "
                    f"{committed['created_by']}")
    for name in files:
        assert (committed_dir / name).read_bytes() == (fresh / name).read_bytes(), name


def test_dataframe_demo_has_string_inputs_and_labels_and_rechecks_its_rows(
        regenerated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from export.demo import CHURN_CSV, train_dataframe_demo_model

    fresh = regenerated.with_name(f"{regenerated.name}_dataframe")
    manifest = json.loads((fresh / "manifest.json").read_text())
    assert manifest["parity"]["verdict"] == "passed"
    assert manifest["signature"]["class_labels"] == ["No", "Yes"]
    assert main(["verify", str(DEMO_DATAFRAME)]) == 0
    capsys.readouterr()
    assert main(["inspect", str(fresh / "churn_classifier.mlmodel"), "--json"]) == 0
    inputs = {i["name"]: i["type"] for i in json.loads(capsys.readouterr().out)["inputs"]}
    assert inputs["contract"] == inputs["payment_method"] == "String" and inputs["tenure"] == "Double"
    # The held-out rows are kept in the export as typed columns, and `parity DIR` re-checks them from that copy.
    copy = pd.read_parquet(fresh / "parity_data.parquet")
    held_out = pd.read_csv(CHURN_CSV).drop(columns="churn").iloc[800:].reset_index(drop=True)
    pd.testing.assert_frame_equal(copy, held_out)
    assert main(["parity", str(fresh), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["user_data"]["rows_checked"] == 200 and "copy inside the export" in document["user_data"]["source"]
    model, rows = train_dataframe_demo_model()
    assert set(model.predict(rows)) == {"No", "Yes"}  # a real classifier on real rows, not a constant


def test_ios_stub_target_from_the_demo(regenerated: Path, tmp_path: Path) -> None:
    target = tmp_path / "IrisParityTests"
    assert main(["ios-stub", str(regenerated), "--out", str(target)]) == 0
    names = {p.name for p in target.iterdir()}
    assert {"iris_classifier.mlmodel", "golden.json", "README.txt"} <= names
    assert any(name.endswith("ParityTests.swift") for name in names)
    target = tmp_path / "ChurnParityTests"
    assert main(["ios-stub", str(regenerated.with_name(f"{regenerated.name}_dataframe")), "--out", str(target)]) == 0
    assert {"churn_classifier.mlmodel", "golden.json"} <= {p.name for p in target.iterdir()}
