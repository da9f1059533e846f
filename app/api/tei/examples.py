"""Try-it-out examples of TEI's routes."""

from __future__ import annotations

from app.api.common.examples import NEEDS_COLBERT, NEEDS_RERANKER, QUERY, BodyExample, Examples
from app.api.common.examples import PASSAGES as TEXTS

_TEXTS = {"inputs": ["What is Deep Learning?", "Deep learning is a kind of machine learning."]}
#: a text as its token ids (ids every served vocabulary has), beside a text
_IDS = {"inputs": [[0, 1000, 2000, 2], "What is Deep Learning?"]}

EXAMPLES: Examples = {
    ("post", "/embed"): {
        "texts": BodyExample("Two texts", _TEXTS),
        "token ids": BodyExample(
            "A text as its token ids (as /tokenize gives them), and a text", _IDS
        ),
    },
    ("post", "/"): {"texts": BodyExample("Two texts (as /embed)", _TEXTS)},
    ("post", "/invocations"): {"texts": BodyExample("Two texts (as /embed)", _TEXTS)},
    ("post", "/embed_sparse"): {
        "texts": BodyExample("Two texts", _TEXTS),
        "token ids": BodyExample("A text as its token ids, and a text", _IDS),
    },
    ("post", "/embed_all"): {"texts": BodyExample("Per-token vectors", _TEXTS, NEEDS_COLBERT)},
    ("post", "/similarity"): {
        "texts": BodyExample(
            "One text against two",
            {"inputs": {"source_sentence": QUERY, "sentences": TEXTS}},
        )
    },
    ("post", "/predict"): {
        "pairs": BodyExample(
            "(query, text) pairs", {"inputs": [[QUERY, text] for text in TEXTS]}, NEEDS_RERANKER
        ),
        "lone text": BodyExample(
            "A lone text, scored as a one-text input (a cross-encoder reranker)",
            {"inputs": TEXTS[0]},
            NEEDS_RERANKER,
        ),
    },
    ("post", "/tokenize"): {
        "text": BodyExample("One text", {"inputs": QUERY, "add_special_tokens": True}),
        "token ids": BodyExample("Token ids, each with its text", {"inputs": [[0, 1000, 2]]}),
    },
    ("post", "/decode"): {
        "ids": BodyExample(
            "Token ids (any vocabulary of 3,000 tokens has them)",
            {"ids": [1000, 2000, 2999], "skip_special_tokens": True},
        )
    },
}
