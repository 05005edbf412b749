"""Document extraction: pluggable extractors (PDF text layer, tesseract OCR) that read
credential fields from an uploaded document, for a member to approve or correct.

- base: the Extractor protocol, FieldValue, ExtractionOutput
- parsing: fields from text; validation: checks on the values
- text, ocr: the built-in extractors; registry: the order they are tried in
- samples: documents with known values (tests and the benchmark)
"""
