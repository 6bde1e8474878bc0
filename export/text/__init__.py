"""Text front-end: scikit-learn's text vectorizers (CountVectorizer, TfidfVectorizer, TfidfTransformer,
HashingVectorizer) described as exact data (`analyzer`), the Unicode tables that make the analyzer reproducible
outside Python (`unicode_tables`), and the ONNX (`to_onnx_text`) and Core ML (`to_coreml_text`) emitters."""
