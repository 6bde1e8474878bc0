"""Benchmark peer: how long Apple's own sklearn converter takes to convert + save a RandomForestClassifier.

Standalone on purpose (stdlib + scikit-learn + coremltools only, never imports mlexport): run it with the side venv
that pins the versions Apple's converter accepts (scikit-learn <= 1.5.1):

    /work/apple-venv/bin/python export/bench_peers/coremltools_convert.py \
        --n-rows 20000 --n-features 20 --n-estimators 300 --max-depth 12 --seed 0 --out DIR

It trains RandomForestClassifier(n_estimators, max_depth, random_state=seed) on
make_classification(n_samples=n_rows, n_features=n_features, random_state=seed), then times
`coremltools.converters.sklearn.convert(model)` + `save` (wall clock, `time.perf_counter`), `--repeats` times
(default 3), and reports the BEST run as convert_seconds (all runs are listed in convert_seconds_runs). Training time
is not part of the measurement. The .mlmodel lands in DIR and one JSON line goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n-rows", type=int, default=20000)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--n-estimators", type=int, default=300)
    parser.add_argument("--max-depth", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="timed convert+save runs; the best is reported")
    parser.add_argument("--out", type=Path, required=True, help="directory for the .mlmodel")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        import coremltools
        import sklearn
        from sklearn.datasets import make_classification
        from sklearn.ensemble import RandomForestClassifier
    except ImportError as missing:
        sys.exit(f"coremltools_convert.py: {missing.name} is not importable; run with the side venv "
                 "(scikit-learn==1.5.1, numpy<2, coremltools==9.0)")
    if not coremltools._deps._HAS_SKLEARN:
        sys.exit(f"coremltools_convert.py: coremltools {coremltools.__version__} disables its sklearn converter "
                 f"for scikit-learn {sklearn.__version__} (supported: <= 1.5.1); run with the side venv")

    X, y = make_classification(n_samples=args.n_rows, n_features=args.n_features, random_state=args.seed)
    # n_jobs only parallelises training; the fitted trees are identical for a given random_state.
    model = RandomForestClassifier(
        n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=args.seed, n_jobs=-1
    ).fit(X, y)

    args.out.mkdir(parents=True, exist_ok=True)
    mlmodel_path = args.out / (
        f"coremltools_rf_{args.n_rows}x{args.n_features}_t{args.n_estimators}_d{args.max_depth}.mlmodel"
    )
    runs = []
    for _ in range(args.repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            mlmodel = coremltools.converters.sklearn.convert(model)
            # On Linux MLModel.save of a classic spec is a protobuf serialisation (no compilation).
            mlmodel.save(str(mlmodel_path))
            runs.append(time.perf_counter() - start)

    print(json.dumps({
        "convert_seconds": round(min(runs), 4),
        "convert_seconds_runs": [round(run, 4) for run in runs],
        "timing": f"best of {args.repeats} (convert + save, wall clock)",
        "mlmodel_bytes": mlmodel_path.stat().st_size,
        "mlmodel": str(mlmodel_path),
        "n_rows": args.n_rows, "n_features": args.n_features, "n_estimators": args.n_estimators,
        "max_depth": args.max_depth, "seed": args.seed,
        "total_nodes": int(sum(tree.tree_.node_count for tree in model.estimators_)),
        "sklearn": sklearn.__version__,
        "coremltools": coremltools.__version__,
    }))


if __name__ == "__main__":
    main()
