"""The README's supported-estimator table is generated from the code's table and must match it."""

from __future__ import annotations

import json
from pathlib import Path

from export.cli import main
from export.frontends import supported
from export.supported_table import readme_section

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_is_generated_from_the_code() -> None:
    assert readme_section() in README.read_text(encoding="utf-8"), (
        "README table is stale: run `python -m export.supported_table README.md`")


def test_supported_json_lists_every_table_row(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["supported", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["estimator"] for r in rows] == [s.name for s in supported()]
    assert {"RandomForestClassifier", "HistGradientBoostingRegressor", "LogisticRegression", "SVC",
            "KNeighborsClassifier", "MLPClassifier", "ColumnTransformer"} <= {r["estimator"] for r in rows}
