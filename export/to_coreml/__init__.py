"""Core ML writer: IR node → classic .mlmodel spec (`to_spec`), its structural validator, and the file writer."""

from export.to_coreml.interface import CoreMLInterface
from export.to_coreml.save import save_spec, spec_bytes
from export.to_coreml.validate import validate_spec
from export.to_coreml.writer import to_spec
from parity.coreml_reference.validation import required_specification_version  # one rule, shared with parity

__all__ = ["CoreMLInterface", "required_specification_version", "save_spec", "spec_bytes", "to_spec",
           "validate_spec"]
