"""Cross-encoder rerankers (bge-reranker-v2-m3 and any *ForSequenceClassification with one
label): the relevance score is the single classification logit of the (query, passage) pair."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification

from app.models.base import ModelInfo, TokenizedPair
from app.models.fronts.cross_encoder import CrossEncoderFront
from app.models.precision import run_in_float32
from app.models.pretrained_tokenizer import load_tokenizer
from app.models.runtime import pad_batch, pad_type_ids
from app.models.source import ModelDir
from app.models.transfer import to_host
from app.settings import Settings


class CrossEncoderBackend(CrossEncoderFront):
    def __init__(
        self,
        model_dir: ModelDir,
        *,
        name: str,
        device: torch.device,
        dtype: torch.dtype,
        settings: Settings,
    ) -> None:
        max_length = settings.bge_rerank_max_length
        from app.models.tokenization import TextTokenizer

        self.device = device
        self.model = AutoModelForSequenceClassification.from_pretrained(model_dir.path, dtype=dtype)
        self.model.to(device).eval()
        head = getattr(self.model, "classifier", None)
        if isinstance(head, torch.nn.Module):
            run_in_float32(head)  # the logits that order close passages, in float32
        config = self.model.config
        offset = 2 if config.model_type in ("xlm-roberta", "roberta") else 0
        limit = min(max_length, int(config.max_position_embeddings) - offset)
        uses_type_ids = int(getattr(config, "type_vocab_size", 1) or 1) > 1
        tokenizer = load_tokenizer(model_dir.path)
        self.tokenizer = TextTokenizer(tokenizer, limit, with_type_ids=uses_type_ids)
        labels = getattr(config, "id2label", None) or {0: "LABEL_0"}
        self.info = ModelInfo(
            name=name,
            kind=self.kind,
            source=str(model_dir.path),
            max_length=limit,
            # the name of the score's class, as TEI's /predict and /info report it
            extra={"label": str(labels.get(0, "LABEL_0"))},
        )

    @torch.inference_mode()
    def score(self, batch: Sequence[TokenizedPair]) -> np.ndarray:
        ids, mask = pad_batch([p.ids for p in batch], self.tokenizer.pad_id, self.device)
        kwargs = {"input_ids": ids, "attention_mask": mask}
        type_ids = pad_type_ids([p.type_ids for p in batch], self.device)
        if type_ids is not None:
            kwargs["token_type_ids"] = type_ids
        logits = self.model(**kwargs).logits
        (scores,) = to_host([logits[:, 0]])
        return scores
