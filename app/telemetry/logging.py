"""Structured logs: one JSON object per line on stderr, for every logger (uvicorn's too).

The standard library is enough here: a formatter that writes the record's fields with msgspec.
Nothing in the app logs headers or request bodies, so the token never reaches a log line and
request texts appear only where code logs them at debug level.
"""

from __future__ import annotations

import logging
import sys
import time

import msgspec

#: attributes every LogRecord has; anything else on a record came from ``extra=`` and is kept
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
_encode = msgspec.json.Encoder().encode
_NOISY = ("transformers", "huggingface_hub", "urllib3", "httpx", "httpcore")  # chatty at info


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                event[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        return _encode(event).decode()


def configure_logging(level: str) -> None:
    """Route every logger through one JSON-lines handler at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.ERROR)
