"""What runs to embed a document's chunks: the payloads of its passes, with the spans of each
that the engine pools (``TokenizedText.spans``), and where each chunk's vectors come from.

- Late chunking: the document's tokens in one pass between the model's special tokens. A
  document longer than the model's positions runs in windows (Günther et al. 2024, "long late
  chunking"): windows of the most tokens a pass holds, each starting half a window after the
  last, the last one ending at the document's end, and one centred on any chunk that none
  holds whole. Each chunk is pooled from the window where it sits farthest from either edge
  (the most context on its poorer side); windows no chunk is pooled from do not run.
- Naive chunking: each chunk's text alone, tokenized as any text is, pooled over its own
  tokens by the same code, so that the two differ only in what the tokens could see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import UnprocessableInput
from app.models.base import EmbeddingBackend, InputType, TokenizedText
from app.models.chunking import SplitDocument, given, split


@dataclass(frozen=True, slots=True)
class DocumentPasses:
    document: SplitDocument
    payloads: list[TokenizedText]
    #: per chunk: (payload, its span's place among that payload's spans)
    located: list[tuple[int, int]]
    #: per chunk: the tokens its vectors pool
    tokens: list[int]


def chunk_token_limit(backend: EmbeddingBackend, input_type: InputType) -> int:
    """The most tokens a chunk may have: what the model takes of one text, less its special
    tokens and its prompt for this input type."""
    prefix, suffix = backend.tokenizer.special_frame()
    return backend.max_length - len(prefix) - len(suffix) - len(_prompt_ids(backend, input_type))


def window_content(backend: EmbeddingBackend, input_type: InputType) -> int:
    """Document tokens one late-chunking pass holds (its special tokens and prompt aside)."""
    prefix, suffix = backend.tokenizer.special_frame()
    return backend.window_tokens - len(prefix) - len(suffix) - len(_prompt_ids(backend, input_type))


def late_passes(
    backend: EmbeddingBackend, document: SplitDocument, input_type: InputType
) -> DocumentPasses:
    if not document.chunks:  # nothing but what the splitter trims away
        return DocumentPasses(document, [], [], [])
    prefix, suffix = backend.tokenizer.special_frame()
    head = prefix + _prompt_ids(backend, input_type)
    content = window_content(backend, input_type)
    windows, choice = plan_windows(
        len(document.ids), [(c.first_token, c.stop_token) for c in document.chunks], content
    )
    members: list[list[int]] = [[] for _ in windows]
    for k, number in enumerate(choice):
        members[number].append(k)
    payloads: list[TokenizedText] = []
    located: list[tuple[int, int]] = [(0, 0)] * len(document.chunks)
    for number, (a, b) in enumerate(windows):
        ids = [*head, *document.ids[a:b], *suffix]
        spans = []
        for place, k in enumerate(members[number]):
            chunk = document.chunks[k]
            spans.append((chunk.first_token - a + len(head), chunk.stop_token - a + len(head)))
            located[k] = (number, place)
        payloads.append(TokenizedText(ids, len(ids), spans=spans))
    return DocumentPasses(document, payloads, located, [c.tokens for c in document.chunks])


def naive_passes(
    backend: EmbeddingBackend, document: SplitDocument, input_type: InputType
) -> DocumentPasses:
    prefix, suffix = backend.tokenizer.special_frame()
    head = len(prefix) + len(_prompt_ids(backend, input_type))
    texts = [document.text[c.start : c.end] for c in document.chunks]
    payloads = backend.tokenize(texts, input_type) if texts else []
    tokens = []
    for payload in payloads:
        span = (head, max(head, len(payload.ids) - len(suffix)))
        payload.spans = [span]
        tokens.append(span[1] - span[0])
    return DocumentPasses(document, payloads, [(k, 0) for k in range(len(payloads))], tokens)


def plan_windows(
    total: int, spans: list[tuple[int, int]], content: int
) -> tuple[list[tuple[int, int]], list[int]]:
    """Windows ``[a, b)`` over ``total`` tokens that run, and per span (``[first, stop)``, at
    most ``content`` long) the window it is pooled from."""
    if total <= content:
        return [(0, total)], [0] * len(spans)
    stride = max(1, content // 2)
    last = total - content
    regular = [*range(0, last, stride), last]
    windows: list[tuple[int, int]] = []
    number: dict[int, int] = {}

    def window_at(a: int) -> int:
        if a not in number:
            number[a] = len(windows)
            windows.append((a, a + content))
        return number[a]

    choice = []
    for first, stop in spans:
        # the regular windows that hold the span whole: starts in [stop - content, first]
        low = -(-max(0, stop - content) // stride)
        candidates = [regular[k] for k in range(low, min(first // stride, len(regular) - 1) + 1)]
        if last <= first and stop - last <= content:
            candidates.append(last)
        held = [a for a in candidates if a <= first and stop <= a + content]
        if held:
            best = max(held, key=lambda a: (min(first - a, a + content - stop), -a))
        else:
            # a span longer than half a window between two regular ones: one of its own
            best = min(max(0, (first + stop) // 2 - content // 2), last)
        choice.append(window_at(best))
    return windows, choice


def _prompt_ids(backend: EmbeddingBackend, input_type: InputType) -> list[int]:
    prompt = backend.prompt_for(input_type)
    return backend.tokenizer.encode_bare([prompt])[0] if prompt else []


def plan_documents(
    backend: EmbeddingBackend,
    texts: Sequence[str],
    input_type: InputType,
    max_tokens: int,
    overlap: int,
    late: bool,
) -> list[DocumentPasses]:
    """Each text cut into chunks (``app.models.chunking.split``) and the passes that embed
    them, late or naive."""
    passes = late_passes if late else naive_passes
    return [
        passes(backend, split(backend.tokenizer, text, max_tokens, overlap), input_type)
        for text in texts
    ]


def plan_given(
    backend: EmbeddingBackend, pieces: Sequence[str], input_type: InputType
) -> list[DocumentPasses]:
    """Jina's ``late_chunking``: ``pieces`` are consecutive chunks of one document, joined and
    run as one (in windows if needed). A piece longer than one pass is refused."""
    document = given(backend.tokenizer, pieces)
    content = window_content(backend, input_type)
    for i, chunk in enumerate(document.chunks):
        if chunk.tokens > content:
            raise UnprocessableInput(
                f"input[{i}] has {chunk.tokens} tokens; with late_chunking each input must fit "
                f"in one pass of {backend.name}: at most {content} tokens",
                param=f"input[{i}]",
            )
    return [late_passes(backend, document, input_type)]
