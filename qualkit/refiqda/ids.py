"""qualkit's GUIDs for REFI-QDA objects and XML-safe text, shared by every REFI-QDA writer."""
from __future__ import annotations

import re
import uuid
from typing import Any

__all__ = ["GUID_NAMESPACE", "guid_for", "xml_safe"]

GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://qualkit.invalid/refi-qda")
# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def guid_for(kind: str, *key: Any) -> str:
    """A deterministic GUID (uuid5) for a qualkit object: the same inputs give the same GUID."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join([kind, *(str(k) for k in key)])))


def xml_safe(text: str) -> str:
    """Text with the characters XML 1.0 cannot carry removed."""
    return _XML_BAD.sub("", text or "")
