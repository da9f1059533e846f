"""BAAI/bge-m3: one XLM-RoBERTa pass, then only the heads a batch asked for.

Dense is the CLS hidden state; sparse is ReLU(sparse_linear(h)) per token, max-pooled over
repeated ids with special tokens dropped; ColBERT is colbert_linear(h) for every token after
CLS, padding masked, each row L2-normalised. The same definitions as FlagEmbedding's
``BGEM3FlagModel`` (tests/models check parity), written here for control over batching.

Late chunking (a text sent with ``spans``): per span, dense is the mean of its hidden states
L2-normalised (the model was trained on CLS, so this is a different vector from the one the
chunk's text gets alone), sparse the lexical weights of its tokens, ColBERT its rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import AutoModel

from app.models.base import (
    Head,
    ItemEmbedding,
    ModelInfo,
    SparseVector,
    TokenizedText,
)
from app.models.fronts.bge_m3 import BgeM3Front
from app.models.late_pooling import row_spans, span_means
from app.models.pooling import l2_normalize
from app.models.pretrained_tokenizer import load_tokenizer
from app.models.runtime import pad_batch
from app.models.source import ModelDir
from app.models.tokenization import TextTokenizer
from app.models.transfer import to_host
from app.settings import Settings

#: XLM-R position ids start after the padding index, so two positions are never usable.
_XLMR_POSITION_OFFSET = 2


class BgeM3Backend(BgeM3Front):
    def __init__(
        self,
        model_dir: ModelDir,
        *,
        name: str,
        device: torch.device,
        dtype: torch.dtype,
        settings: Settings,
    ) -> None:
        max_length = settings.bge_embed_max_length
        self.device = device
        self.encoder = AutoModel.from_pretrained(
            model_dir.path, dtype=dtype, add_pooling_layer=False
        )
        self.encoder.to(device).eval()
        hidden = int(self.encoder.config.hidden_size)
        self.sparse_linear = _load_linear(model_dir, "sparse_linear.pt", hidden, 1, device)
        self.colbert_linear = _load_linear(model_dir, "colbert_linear.pt", hidden, None, device)
        tokenizer = load_tokenizer(model_dir.path)
        model_limit = int(self.encoder.config.max_position_embeddings) - _XLMR_POSITION_OFFSET
        limit = min(max_length, model_limit)
        self.tokenizer = TextTokenizer(tokenizer, limit)
        self._unused_ids = np.array(
            sorted(
                {
                    int(i)
                    for i in (
                        tokenizer.cls_token_id,
                        tokenizer.eos_token_id,
                        tokenizer.pad_token_id,
                        tokenizer.unk_token_id,
                    )
                    if i is not None
                }
            ),
            dtype=np.int64,
        )
        self.info = ModelInfo(
            name=name,
            kind=self.kind,
            source=str(model_dir.path),
            max_length=limit,
            dimension=hidden,
            extra={"colbert_dim": int(self.colbert_linear.out_features)},
        )
        self.pools_spans = True
        self.window_tokens = limit

    @torch.inference_mode()
    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        ids, mask = pad_batch([t.ids for t in batch], self.tokenizer.pad_id, self.device)
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        lengths = [len(t.ids) for t in batch]
        # late chunking: texts sent with spans get one vector set per span (app.models.late_pooling)
        spans = row_spans(batch)
        # The heads run in float32 on the half-precision hidden states (their weights are
        # float32: a few MB), and every head asked for comes back in one copy.
        wanted: list[torch.Tensor] = []
        if Head.DENSE in heads:
            wanted.append(hidden[:, 0].float())
            if spans:
                # CLS is the chunk's vector nowhere: the mean of its tokens, L2-normalised
                wanted.append(l2_normalize(span_means(hidden, spans)))
        if Head.SPARSE in heads:
            wanted.append(torch.relu(self.sparse_linear(hidden.float())).squeeze(-1))
        if Head.COLBERT in heads:
            vectors = self.colbert_linear(hidden[:, 1:].float()) * mask[:, 1:, None]
            wanted.append(torch.nn.functional.normalize(vectors, dim=-1))
        arrays = iter(to_host(wanted))
        out = [
            ItemEmbedding(chunks=None if t.spans is None else [ItemEmbedding() for _ in t.spans])
            for t in batch
        ]
        plain = [(row, item) for row, item in enumerate(out) if item.chunks is None]
        leaves = [leaf for item in out if item.chunks is not None for leaf in item.chunks]
        if Head.DENSE in heads:
            dense = next(arrays)
            for row, item in plain:
                item.dense = dense[row]
            if spans:
                for leaf, vector in zip(leaves, next(arrays), strict=True):
                    leaf.dense = vector
        if Head.SPARSE in heads:
            weights = next(arrays)
            token_ids = [np.asarray(t.ids, dtype=np.int64) for t in batch]
            for row, item in plain:
                item.sparse = self._lexical_weights(token_ids[row], weights[row, : lengths[row]])
            for leaf, (row, start, stop) in zip(leaves, spans, strict=True):
                leaf.sparse = self._lexical_weights(
                    token_ids[row][start:stop], weights[row, start:stop]
                )
        if Head.COLBERT in heads:
            colbert = next(arrays)
            for row, item in plain:
                item.colbert = colbert[row, : lengths[row] - 1]
            # colbert's rows start at position 1 (after CLS)
            for leaf, (row, start, stop) in zip(leaves, spans, strict=True):
                leaf.colbert = colbert[row, start - 1 : stop - 1]
        return out

    def _lexical_weights(self, token_ids: np.ndarray, weights: np.ndarray) -> SparseVector:
        keep = (weights > 0) & ~np.isin(token_ids, self._unused_ids)
        token_ids, weights = token_ids[keep], weights[keep]
        unique, inverse = np.unique(token_ids, return_inverse=True)
        best = np.zeros(len(unique), dtype=np.float32)
        np.maximum.at(best, inverse, weights)
        return SparseVector(indices=unique, values=best)


def _load_linear(
    model_dir: ModelDir,
    filename: str,
    hidden: int,
    out_features: int | None,
    device: torch.device,
) -> torch.nn.Linear:
    state = torch.load(model_dir.path / filename, map_location="cpu", weights_only=True)
    out = int(state["weight"].shape[0]) if out_features is None else out_features
    layer = torch.nn.Linear(hidden, out)
    layer.load_state_dict(state)
    return layer.to(device=device, dtype=torch.float32).eval()
