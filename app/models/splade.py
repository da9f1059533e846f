"""SPLADE sparse vectors: a masked-LM's vocabulary logits, weight = log(1 + ReLU(logit)),
max-pooled over the text's tokens (padding excluded).

Special tokens (CLS/SEP/PAD/UNK/MASK) are dropped from the result, as bge-m3's sparse head
does, so both sparse sources speak the same language. Only the sparse role is served.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import AutoModelForMaskedLM

from app.errors import ModelLoadError
from app.models.base import (
    Head,
    ItemEmbedding,
    ModelInfo,
    SparseVector,
    TokenizedText,
)
from app.models.fronts.sentence_transformer import position_limit
from app.models.fronts.splade import SpladeFront
from app.models.pretrained_tokenizer import load_tokenizer
from app.models.runtime import pad_batch
from app.models.source import ModelDir
from app.models.tokenization import TextTokenizer
from app.settings import Settings

#: Upper bound on elements of one logits tensor (rows x tokens x vocabulary): ~256 MB in
#: float32. A batch over it runs the model in row chunks, since the vocabulary axis is huge.
_LOGITS_BUDGET = 64 * 1024 * 1024


class SpladeBackend(SpladeFront):
    def __init__(
        self,
        model_dir: ModelDir,
        *,
        name: str,
        device: torch.device,
        dtype: torch.dtype,
        settings: Settings,
    ) -> None:
        self.device = device
        model, loading = AutoModelForMaskedLM.from_pretrained(
            model_dir.path, dtype=dtype, output_loading_info=True
        )
        if loading["missing_keys"]:
            # A checkpoint without its MLM head would load with random head weights and
            # serve noise; the tied decoder is not listed here, only genuinely absent ones.
            missing = ", ".join(sorted(loading["missing_keys"])[:4])
            raise ModelLoadError(f"model {model_dir.ref}: masked-LM weights missing: {missing}")
        self.model = model.to(device).eval()
        tokenizer = load_tokenizer(model_dir.path)
        limit = min(settings.bge_embed_max_length, position_limit(model.config))
        self.tokenizer = TextTokenizer(tokenizer, limit)
        self._vocab_size = int(model.config.vocab_size)
        self._dropped = torch.tensor(
            sorted({int(i) for i in tokenizer.all_special_ids if i < self._vocab_size}),
            dtype=torch.long,
            device=device,
        )
        self.info = ModelInfo(
            name=name,
            kind=self.kind,
            source=str(model_dir.path),
            max_length=limit,
            extra={"vocab_size": self._vocab_size},
        )

    @torch.inference_mode()
    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        ids, mask = pad_batch([t.ids for t in batch], self.tokenizer.pad_id, self.device)
        rows_per_pass = max(1, _LOGITS_BUDGET // (ids.shape[1] * self._vocab_size))
        out: list[ItemEmbedding] = []
        for start in range(0, len(batch), rows_per_pass):
            chunk = slice(start, start + rows_per_pass)
            weights = self._term_weights(ids[chunk], mask[chunk]).cpu().numpy()
            out.extend(ItemEmbedding(sparse=_sparse(row)) for row in weights)
        return out

    def _term_weights(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = self.model(input_ids=ids, attention_mask=mask).logits
        # log1p∘ReLU is monotonic, so max-pooling the logits first gives the same weights
        # with one small tensor instead of a second (rows, tokens, vocab) one.
        logits = logits.float().masked_fill(mask.unsqueeze(-1) == 0, float("-inf"))
        weights = torch.log1p(torch.relu(logits.amax(dim=1)))
        weights[:, self._dropped] = 0.0
        return weights


def _sparse(weights: np.ndarray) -> SparseVector:
    indices = np.flatnonzero(weights > 0)
    return SparseVector(
        indices=indices.astype(np.int64), values=weights[indices].astype(np.float32)
    )
