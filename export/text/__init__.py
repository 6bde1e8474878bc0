"""Text front-end: scikit-learn's text vectorizers (CountVectorizer, TfidfVectorizer, TfidfTransformer,
HashingVectorizer) described as exact data (`analyzer`), the Unicode tables that make the analyzer reproducible
outside Python (`unicode_tables`), the ONNX emitter of `ir.TextVectorizer` (`to_onnx_text`) and the Swift rules file
(`rules`). The registry rows and model builders are `export.from_sklearn.text`; Core ML's DictVectorizer emitter is
`export.to_coreml.dict_vectorizer`."""
