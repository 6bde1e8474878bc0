"""Benchmark of the parity flow: a full parity run vs scikit-learn's own predict_proba on the same rows.

`mlexport bench` builds the artifacts (parity never imports export) and passes their paths here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def bench_parity_run(estimator: Any, X: np.ndarray, artifacts: Sequence[str | os.PathLike[str]],
                     contract: str = "float64", method: str = "predict_proba") -> dict[str, Any]:
    """Time `parity.check` on X (all probes included) and the model's own `method` on X alone, in the same process.

    Target: ratio = parity seconds / predict_proba seconds <= 2.5 on a 300-tree RandomForestClassifier, 100k rows.
    The machine may be shared, so besides wall seconds this records CPU seconds (the process's, and each stage's
    thread-CPU seconds summed over its chunks) and the load average: CPU seconds move far less with load than wall
    seconds, and parity CPU / (cores × predict_proba CPU) is the ratio an idle machine with these cores could reach
    at best (every core busy all the way).
    """
    import parity

    load_before = os.getloadavg()
    clock, cpu_clock = time.perf_counter(), time.process_time()
    getattr(estimator, method)(X)
    sklearn_seconds, sklearn_cpu = time.perf_counter() - clock, time.process_time() - cpu_clock
    clock, cpu_clock = time.perf_counter(), time.process_time()
    report = parity.check(estimator, artifacts, inputs=X, contract=contract)
    parity_seconds, parity_cpu = time.perf_counter() - clock, time.process_time() - cpu_clock
    n_probe_rows = sum(p.n_rows for p in report.probes)
    cores = os.cpu_count() or 1
    return {
        "n_rows": len(X),
        "n_probe_rows": int(n_probe_rows),
        "artifacts": [str(a) for a in artifacts],
        "sklearn_predict_proba_seconds": sklearn_seconds,  # the time of `method` (predict_proba by default)
        "reference_method": method,
        "parity_seconds": parity_seconds,
        "ratio": parity_seconds / sklearn_seconds if sklearn_seconds > 0 else float("inf"),
        "target_ratio": 2.5,
        "verdict": report.verdict,
        "breakdown_seconds": dict(report.timings),
        "breakdown_cpu_seconds": dict(report.cpu_timings),
        "sklearn_predict_proba_cpu_seconds": sklearn_cpu,
        "parity_cpu_seconds": parity_cpu,
        "cpu_ratio": parity_cpu / sklearn_cpu if sklearn_cpu > 0 else float("inf"),
        "cpu_ratio_per_core": parity_cpu / (cores * sklearn_cpu) if sklearn_cpu > 0 else float("inf"),
        "cores": cores,
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
    }
