"""Is it cheaper to run a shared batch's head sets together or apart? (issue 12)

One pass over the whole batch computing the union of the heads its requests asked for
(what the scheduler does; each request then keeps only its own), against one pass per head
set. Measured on an XLM-RoBERTa the size of bge-m3 (24 layers, 1024 wide) with random
weights: a forward pass costs the same whatever the weights, and no hub is needed.

    python -m app.bench.heads [--texts 24] [--tokens 24] [--runs 3]
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import XLMRobertaConfig, XLMRobertaModel

HEADS = ("dense", "sparse", "colbert")


class Bgem3Sized:
    def __init__(self, texts: int, tokens: int) -> None:
        torch.manual_seed(0)
        config = XLMRobertaConfig(
            vocab_size=250_002,
            hidden_size=1024,
            num_hidden_layers=24,
            num_attention_heads=16,
            intermediate_size=4096,
            max_position_embeddings=8194,
        )
        self.encoder = XLMRobertaModel(config, add_pooling_layer=False).eval()
        self.sparse = torch.nn.Linear(1024, 1)
        self.colbert = torch.nn.Linear(1024, 1024)
        self.ids = torch.randint(5, 250_000, (texts, tokens))

    @torch.inference_mode()
    def run(self, rows: list[int], heads: set[str]) -> float:
        started = time.perf_counter()
        ids = self.ids[rows]
        hidden = self.encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        if "dense" in heads:
            hidden[:, 0].numpy()
        if "sparse" in heads:
            torch.relu(self.sparse(hidden)).squeeze(-1).numpy()
        if "colbert" in heads:
            torch.nn.functional.normalize(self.colbert(hidden[:, 1:]), dim=-1).numpy()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=24)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    model = Bgem3Sized(args.texts, args.tokens)
    rows = list(range(args.texts))
    by_head = [rows[i :: len(HEADS)] for i in range(len(HEADS))]
    model.run(rows, {"dense"})  # warm-up
    for attempt in range(1, args.runs + 1):
        union = model.run(rows, set(HEADS))
        apart = sum(model.run(part, {head}) for part, head in zip(by_head, HEADS, strict=True))
        dense_only = model.run(rows, {"dense"})
        print(
            f"run {attempt}: one pass, union of heads: {union * 1000:.0f} ms | "
            f"{len(HEADS)} passes, one head set each: {apart * 1000:.0f} ms | "
            f"one pass, dense only: {dense_only * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
