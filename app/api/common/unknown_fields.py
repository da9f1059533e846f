"""Warn about request fields the native routes do not know (``return_colbertt``).

They are still accepted: the original service ignored them and its clients send extras. But a
misspelt option silently does nothing, so the response says which fields were ignored.

This runs on every request, so the body is not decoded a second time unless it may hold an
unknown key: every key in a JSON object is followed by a ``:`` byte, so a body with no more
colons than the required keys has no other key. Only a body that fails that check (options
set, or a ``:`` in a text) has its top-level keys decoded, without their values.
"""

from __future__ import annotations

import logging

import msgspec

from app.api.common.schemas import ApiWarning, WarningTarget

log = logging.getLogger(__name__)

#: top-level keys only; the values are skipped, not decoded
_keys_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])


class KnownFields:
    """The fields of one request Struct, and the check of a body against them."""

    __slots__ = ("_skips", "names")

    def __init__(self, struct_type: type[msgspec.Struct]) -> None:
        infos = msgspec.structs.fields(struct_type)
        self.names = frozenset(info.encode_name for info in infos)
        # one colon per required key is expected: the check looks for one past those
        self._skips = (None,) * sum(info.required for info in infos)

    def warnings(self, body: bytes) -> list[ApiWarning]:
        """An ``unknown_field`` warning for each top-level key of ``body`` not among these
        fields, in the body's order."""
        # find (memchr) by find, stopping at the first colon past the required keys' ones:
        # measured cheaper here than ``bytes.count``, which reads the whole body
        colon = body.find(b":")
        for _ in self._skips:
            if colon < 0:
                return []
            colon = body.find(b":", colon + 1)
        if colon < 0:
            return []
        return self._decode_keys(body)

    def _decode_keys(self, body: bytes) -> list[ApiWarning]:
        try:
            keys = _keys_decoder.decode(body)
        except msgspec.DecodeError:  # the Struct decoded it, so this should not happen
            return []
        if self.names.issuperset(keys):
            return []
        warnings = []
        for key in keys:
            if key in self.names:
                continue
            pointer = "/" + key.replace("~", "~0").replace("/", "~1")
            log.debug("ignored unknown request field %s", pointer)
            warnings.append(
                ApiWarning(
                    code="unknown_field",
                    message=f"{key!r} is not a field of this request and was ignored",
                    target=WarningTarget(field=key, pointer=pointer),
                )
            )
        return warnings
