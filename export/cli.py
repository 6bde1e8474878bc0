"""The `mlexport` command line: `main(argv) -> exit code`, testable without a subprocess.

Exit codes, decided in one place (`main`): 0 ok; 1 parity or verify failed; 2 bad input or usage (our own errors:
export's `MlexportError` and parity's `ParityError` families, and OS refusals such as a full disk — a one-line message
on stderr naming the file or field and what is allowed); 3 internal error (anything else is a bug: one line asking
for a report). `--debug` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from export.errors import MlexportError, ParityFailedError, UsageError
from parity.errors import ParityError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line, exit 2) instead of printing usage and exiting itself."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _row_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a row count; allowed: 0 or a positive integer")
    return value


def _missing_value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; allowed: a number such as -999, or nan") from None


def build_parser() -> argparse.ArgumentParser:
    from export.exporter import DEFAULT_DATA_COPY_ROWS

    parser = _Parser(prog="mlexport", description="Export scikit-learn models to Core ML and ONNX, and prove parity.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--version", action="store_true", help="print the mlexport version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    # `--debug` is accepted after the subcommand too (`mlexport export m.skops --debug`); SUPPRESS keeps a
    # subcommand's missing flag from overwriting the top-level one.
    debug_flag = _Parser(add_help=False)
    debug_flag.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                            help="show tracebacks for errors")

    def command(name: str, description: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, parents=[debug_flag], help=description)
        return parser

    p = command("export", "export a saved model to Core ML / ONNX, then run the parity suite")
    p.add_argument("model", help="model file: .skops (default), or .pkl/.pickle/.joblib with --trust-pickle")
    p.add_argument("--out", required=True, help="output directory (created atomically; must not exist)")
    p.add_argument("--formats", default="coreml,onnx", help="comma list of coreml, onnx, ort (default: coreml,onnx)")
    p.add_argument("--name", help="artifact base name (default: the model file's stem)")
    p.add_argument("--data", help="rows to check parity on: .npy, .csv (with header) or .parquet (recorded in the "
                                  "manifest with its SHA-256; `parity DIR` re-checks them)")
    p.add_argument("--data-copy-rows", type=_row_count, default=DEFAULT_DATA_COPY_ROWS, metavar="N",
                   help=f"keep a copy of up to N --data rows in the export (default {DEFAULT_DATA_COPY_ROWS}; "
                        "0: no copy)")
    p.add_argument("--input-dtype", choices=None,
                   help="what the app feeds: float32 or float64 (default: float64, Core ML's Double)")
    p.add_argument("--feature-names", help="comma-separated input names (default: the model's feature_names_in_)")
    p.add_argument("--missing", type=_missing_value, metavar="VALUE",
                   help="XGBoost: the value the app uses for missing (XGBoost's call-time `missing`; default nan)")
    p.add_argument("--author", default="")
    p.add_argument("--license", default="")
    p.add_argument("--version", dest="model_version", default="", help="model version string for the metadata")
    p.add_argument("--description", default="", help="short description shown in Xcode")
    p.add_argument("--trust-pickle", metavar="SHA256", help="load a pickle/joblib file whose SHA-256 is exactly this")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--no-parity", action="store_true", help="skip the parity suite (verdict recorded as skipped)")
    p.add_argument("--reproducible", action="store_true",
                   help="leave run timings out of parity.json, so the same export gives identical bytes")
    p.add_argument("--strict-versions", action="store_true",
                   help="refuse a model file saved by other scikit-learn versions than the running one")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = command("parity", "run the parity suite on an export directory")
    p.add_argument("dir", help="export directory (with manifest.json)")
    p.add_argument("--model", help="model file (default: the one recorded in the manifest)")
    p.add_argument("--data", help="rows to check: .npy, .csv (with header) or .parquet")
    p.add_argument("--trust-pickle", metavar="SHA256")
    p.add_argument("--no-verify", action="store_true",
                   help="check the files as they are, without first comparing them with manifest.json's SHA-256")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML (one case per artifact x output x probe set)")
    p.add_argument("--html", metavar="FILE", help="write the self-contained HTML report")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown report")
    p.add_argument("--strict-versions", action="store_true",
                   help="refuse a model file saved by other scikit-learn versions than the running one")

    p = command("verify", "recompute every hash in an export's manifest.json")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")

    p = command("inspect", "show inputs, outputs, labels and metadata of .mlmodel/.onnx/.ort")
    p.add_argument("artifact")
    p.add_argument("--json", action="store_true")

    p = command("predict", "run an artifact (.mlmodel via the reference evaluator, .onnx/.ort) on data")
    p.add_argument("artifact")
    p.add_argument("--data", required=True, help=".npy, .csv (with header) or .parquet")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")

    p = command("supported", "list the supported estimators per format")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="print the README table")

    p = command("demo", "train a small model, save it as .skops, export it and run parity")
    p.add_argument("--out", default="artifacts/demo", help="the iris demo's export directory")
    p.add_argument("--dataframe-out", default=None,
                   help="the DataFrame (string columns) demo's export directory (default: OUT_dataframe beside OUT)")

    p = command("bench", "benchmarks with ratios against the peers, measured in the same run")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument("--peer-python", help="python of a side venv with scikit-learn==1.5.1, numpy<2, coremltools==9.0")
    p.add_argument("--json", action="store_true")

    p = command("ios-stub", "write a ready Xcode test-target folder for an export")
    p.add_argument("dir", help="export directory")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code. All error-to-exit-code mapping happens here."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except ParityFailedError as exc:
        _error(str(exc), debug)
        return EXIT_FAILED
    except MlexportError as exc:
        _error(str(exc), debug)
        return exc.exit_code
    except BrokenPipeError:
        # `mlexport predict ... | head`: the reader left; stop quietly like other Unix tools.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ParityError as exc:  # parity's own family (it never imports export, so it is not an MlexportError)
        _error(_one_line(exc), debug)
        return EXIT_USAGE
    except OSError as exc:
        # The environment refused an operation (disk full, permission denied, a path that vanished): the user's to
        # fix, not a bug. Named by path and reason, never as a raw "[Errno N]".
        from export.path_checks import describe_os_error

        _error(describe_os_error(exc), debug)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted", debug)
        return 130
    except Exception as exc:  # anything else is a bug in mlexport or a library: one line (traceback with --debug)
        _error(f"internal error, please report it with the output of --debug: {type(exc).__name__}: "
               f"{_one_line(exc)}", debug)
        return EXIT_INTERNAL


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _error(message: str, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    print(f"mlexport: error: {' '.join(message.split())}", file=sys.stderr)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def _dispatch(args: argparse.Namespace) -> int:
    if args.version:
        from export.manifest import package_versions

        print(f"mlexport {package_versions()['mlexport']}")
        return EXIT_OK
    handlers = {
        "export": _cmd_export, "parity": _cmd_parity, "verify": _cmd_verify, "inspect": _cmd_inspect,
        "predict": _cmd_predict, "supported": _cmd_supported, "demo": _cmd_demo, "bench": _cmd_bench,
        "ios-stub": _cmd_ios_stub,
    }
    if args.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    return handlers[args.command](args)


def _progress(message: str) -> None:
    print(f"mlexport: {message}", file=sys.stderr)


def _cmd_export(args: argparse.Namespace) -> int:
    from export.exporter import ExportOptions, export_model, parse_formats

    names = tuple(n.strip() for n in args.feature_names.split(",")) if args.feature_names else None
    options = ExportOptions(
        formats=parse_formats(args.formats), name=args.name, input_dtype=args.input_dtype, feature_names=names,
        author=args.author, license=args.license, version=args.model_version, description=args.description,
        force=args.force, run_parity=not args.no_parity, data_copy_rows=args.data_copy_rows,
        reproducible=args.reproducible, strict_versions=args.strict_versions, missing=args.missing)
    result = export_model(args.model, args.out, options, data=args.data, trust_pickle=args.trust_pickle,
                          progress=None if args.json else _progress)
    from export.signature import renamed_inputs

    renamed = renamed_inputs(result.signature) if "coreml" in result.artifacts else {}
    failure = None
    if result.parity_verdict == "failed":
        failure = (f"parity failed for '{result.out_dir}': {result.parity_summary} "
                   f"(see {result.out_dir / 'parity.html'})")
    if args.json:
        report = result.parity_report
        _print_json({"out_dir": str(result.out_dir), "artifacts": {k: str(v) for k, v in result.artifacts.items()},
                     "reports": {k: str(v) for k, v in result.reports.items()},
                     "routes": result.routes, "parity": result.parity_verdict, "summary": result.parity_summary,
                     "error": failure, "causes": _causes_json(report) if report is not None else [],
                     "renamed_inputs": renamed, "version_mismatch": result.version_mismatch})
    else:
        if result.version_mismatch:  # first and on stderr too: a difference the user must not miss
            print(f"mlexport: warning: VERSION MISMATCH: {result.version_mismatch}", file=sys.stderr)
            print(f"{'versions':>12}: MISMATCH — {result.version_mismatch}")
        for kind, path in {**result.artifacts, **result.reports}.items():
            print(f"{kind:>12}: {path}")
        print(f"{'manifest':>12}: {result.out_dir / 'manifest.json'}")
        data = result.manifest.get("data")
        if data:
            copy = (f"; {data['copy_rows']} rows copied to {data['copy']}" if data["copy"] else "; no copy kept")
            print(f"{'data':>12}: {data['file'] or 'rows passed in memory'} ({data['rows']} rows, sha256 "
                  f"{data['sha256'][:12]}…{copy})")
        print(f"{'parity':>12}: {result.parity_verdict} — {result.parity_summary}")
        if renamed:  # the names the app developer types in Swift differ from the training columns: say which
            print(f"{'inputs':>12}: renamed for Core ML/Swift (training column -> Core ML input): "
                  + ", ".join(f"{original!r} -> {name}" for original, name in renamed.items()))
    if failure:
        raise ParityFailedError(failure)
    return EXIT_OK


def _causes_json(report: Any) -> list[dict[str, Any]]:
    """The distinct causes of a failed parity run, each with the checks it explains (for `--json` consumers)."""
    causes = [{"cause": problem, "artifact": a.path, "checks": []} for a in report.artifacts for problem in a.problems]
    for cause, indices in report.causes():
        checks = [report.checks[i] for i in indices]
        causes.append({"cause": cause, "checks": [
            {"artifact": c.artifact, "runtime": c.runtime, "output": c.comparison.output, "probe": c.probe,
             "failing_rows": c.comparison.violations + c.comparison.label_mismatches, "n_rows": c.comparison.n_rows,
             "first_failing_rows": list(c.comparison.failing_rows)} for c in checks]})
    return causes


def _cmd_parity(args: argparse.Namespace) -> int:
    from export.parity_run import run_parity_on_dir
    from parity.report import one_line_summary, to_summary

    run = run_parity_on_dir(Path(args.dir), model=args.model, data=args.data, trust_pickle=args.trust_pickle,
                            junit=args.junit, html=args.html, markdown=args.markdown, verify=not args.no_verify,
                            strict_versions=args.strict_versions)
    if args.json:
        _print_json(run.rendered["json"])
    else:
        print(to_summary(run.report, {kind: str(path) for kind, path in run.written.items()}))
    if not run.report.passed:
        reports = ", ".join(str(p) for p in run.written.values())
        raise ParityFailedError(f"parity failed for '{args.dir}': {one_line_summary(run.report)}"
                                + (f" (see {reports})" if reports else " (write the full report with --html FILE)"))
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from export.errors import VerifyFailedError
    from export.manifest import check_files, describe_problem

    fine, problems = check_files(Path(args.dir))
    if args.json:
        _print_json({"directory": args.dir, "verified": not problems, "files": len(fine), "ok": fine,
                     "problems": problems})
    elif not problems:
        print("\n".join(f"ok: {rel}" for rel in fine))
        print(f"verified: {len(fine)} files match manifest.json")
    if problems:
        raise VerifyFailedError(f"verify failed for '{args.dir}': " + "; ".join(map(describe_problem, problems)))
    return EXIT_OK


def _cmd_inspect(args: argparse.Namespace) -> int:
    from export.inspection import describe_artifact, format_description

    info = describe_artifact(Path(args.artifact))
    if args.json:
        _print_json(info)
    else:
        print(format_description(info))
    return EXIT_OK


def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from export.inspection import describe_artifact, predict_artifact, probability_labels

    artifact = Path(args.artifact)
    outputs = predict_artifact(artifact, Path(args.data))
    # Probability columns are named by class label (what classProbability["yes"] means in Swift), not by position.
    labels = probability_labels(describe_artifact(artifact), outputs)
    if args.json:
        _print_json({name: [dict(zip(labels[name], row, strict=True)) for row in np.asarray(values).tolist()]
                     if name in labels else np.asarray(values).tolist() for name, values in outputs.items()})
        return EXIT_OK
    columns: list[tuple[str, Any]] = []
    for name, values in outputs.items():
        values = np.asarray(values)
        if values.ndim == 2:
            keys = labels.get(name) or [str(j) for j in range(values.shape[1])]
            columns += [(f"{name}[{key}]", values[:, j]) for j, key in enumerate(keys)]
        else:
            columns.append((name, values))
    if args.csv:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(name for name, _ in columns)
        writer.writerows([_cell(v) for v in row] for row in zip(*(col for _, col in columns), strict=True))
    else:
        print("\t".join(name for name, _ in columns))
        for row in zip(*(col for _, col in columns), strict=True):
            print("\t".join(_cell(v) for v in row))
    return EXIT_OK


def _cell(value: Any) -> str:
    value = value.item() if hasattr(value, "item") else value
    return repr(value) if isinstance(value, float) else str(value)


def _cmd_supported(args: argparse.Namespace) -> int:
    from export.supported_table import supported_rows, supported_table_markdown

    if args.json:
        _print_json(supported_rows())
    else:
        print(supported_table_markdown())
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from export.demo import run_demo

    result = run_demo(Path(args.out), progress=_progress,
                      dataframe_out=Path(args.dataframe_out) if args.dataframe_out else None)
    print(result.summary)
    failed = [r.out_dir for r in (result.export, result.dataframe_export) if r and r.parity_verdict == "failed"]
    if failed:
        raise ParityFailedError(f"demo parity failed (see {', '.join(str(d / 'parity.md') for d in failed)})")
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from export.bench import format_bench, run_bench

    results = run_bench(quick=args.quick, peer_python=args.peer_python, progress=_progress)
    if args.json:
        _print_json(results)
    else:
        print(format_bench(results))
    return EXIT_OK


def _cmd_ios_stub(args: argparse.Namespace) -> int:
    from export.ios_target import write_ios_test_target

    path = write_ios_test_target(Path(args.dir), Path(args.out), force=args.force)
    print(f"wrote {path}: add it to your app's test target in Xcode (see its README.txt)")
    return EXIT_OK
