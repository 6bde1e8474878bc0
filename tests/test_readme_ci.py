"""The README's "In your CI" snippets run as written (issue 9 item 18), and its --input-dtype default is --help's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from export.cli import build_parser
from export.loading import dump_skops
from export.signature import default_input_dtype

README = Path(__file__).resolve().parents[1] / "README.md"


def _ci_snippets() -> tuple[str, str]:
    section = README.read_text(encoding="utf-8").split("### In your CI", 1)[1].split("\n### ", 1)[0]
    python = re.search(r"```python\n(.*?)```", section, re.S)
    bash = re.search(r"```bash\n(.*?)```", section, re.S)
    assert python and bash, "the README's CI section lost its python or bash snippet"
    return python.group(1), bash.group(1)


def test_readme_ci_snippets_run(tmp_path: Path) -> None:
    python_snippet, bash_snippet = _ci_snippets()
    assert "[...]" not in python_snippet  # no placeholder left for the reader to fill in
    iris = load_iris(as_frame=True)
    frame = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    dump_skops(RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(frame, iris.target),
               tmp_path / "model.skops")
    (tmp_path / "data").mkdir()
    frame.iloc[::5].to_csv(tmp_path / "data" / "holdout.csv", index=False)
    env = {**os.environ, "GIT_TAG": "1.2.3",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", bash_snippet], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    suite = ElementTree.parse(tmp_path / "parity-junit.xml").getroot()
    user_data = [c for c in suite.findall("testcase") if "[user-data]" in (c.get("name") or "")]
    assert user_data and all(c.find("failure") is None and c.find("skipped") is None for c in user_data)
    assert (tmp_path / "parity.html").is_file()

    (tmp_path / "test_model_parity.py").write_text(python_snippet, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_model_parity.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_input_dtype_default_agrees_in_help_readme_and_code() -> None:
    default = default_input_dtype(object())[0]
    export_parser = build_parser()._subparsers._group_actions[0].choices["export"]  # type: ignore[union-attr]
    help_text = next(a.help for a in export_parser._actions if "--input-dtype" in a.option_strings)
    assert help_text and f"default: {default}" in help_text
    readme = README.read_text(encoding="utf-8")
    assert f"`--input-dtype {default}` (the default for every model" in readme
    assert "default per model" not in readme + help_text
