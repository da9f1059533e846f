"""Hugging Face text-embeddings-inference's HTTP API (SPEC §1.2), so that the frameworks and
vector databases written for TEI work unchanged: ``/embed``, ``/embed_sparse``, ``/embed_all``,
``/similarity`` (``embed.py``), ``/rerank`` in TEI's body and ``/predict`` (``rerank.py``),
``/tokenize`` and ``/decode`` (``tokens.py``), ``/info``, ``POST /`` and ``/invocations``
(``root.py``). TEI's error body and status codes: ``errors.py``; its request and response
shapes: ``schemas.py``; their OpenAPI description: ``openapi.py``.
"""
