"""Try-it-out examples of OpenAI's ``/v1/embeddings``."""

from __future__ import annotations

from app.api.common.examples import DOCUMENT_CHUNKS, PASSAGES, QUERY, BodyExample, Examples

EXAMPLES: Examples = {
    ("post", "/v1/embeddings"): {
        "texts": BodyExample(
            "Two texts; no model named: the dense model served here", {"input": PASSAGES}
        ),
        "base64": BodyExample(
            "One text, base64 float32", {"input": QUERY, "encoding_format": "base64"}
        ),
        "late chunking": BodyExample(
            "Jina's late chunking: consecutive chunks of one document, one vector each",
            {"input": DOCUMENT_CHUNKS, "late_chunking": True},
        ),
    },
}
