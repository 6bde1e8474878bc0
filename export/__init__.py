"""mlexport: export fitted scikit-learn models to Core ML and ONNX, and prove the exports behave like the model.

Public API (imported lazily so `import export` stays cheap):

- `export_model(model_or_path, out_dir, ExportOptions(...), data=...) -> ExportResult`
- `load_model(path, trust_pickle=None)`: safe loading (.skops; pickle only with a matching SHA-256)
- `signature_of(estimator, ...)`: inputs, task, labels and the input-dtype contract
- `to_ir(estimator)`: the model IR (`export.ir`) that both writers consume
"""

from __future__ import annotations

from typing import Any

__all__ = ["ExportOptions", "ExportResult", "export_model", "load_model", "signature_of", "to_ir"]

_LAZY = {
    "ExportOptions": "export.exporter",
    "ExportResult": "export.exporter",
    "export_model": "export.exporter",
    "load_model": "export.loading",
    "signature_of": "export.signature",
    "to_ir": "export.frontends",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'export' has no attribute {name!r}")
