"""The fields and allowed values of a code, shared by the codebook model and its schema.

Kept apart from :mod:`qualkit.workspace.codebook_schema` so that importing the model does not
import pydantic: the schema is loaded when a codebook file is first read.
"""
from __future__ import annotations

import re

__all__ = ["CODE_FIELDS", "ID_RE", "LIST_FIELDS", "ORIGINS", "STATUSES", "TEXT_FIELDS"]

ORIGINS = ("deductive", "inductive")
STATUSES = ("active", "retired")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
LIST_FIELDS = ("examples", "keywords", "patterns", "framework")
TEXT_FIELDS = ("brief", "definition", "include", "exclude")
CODE_FIELDS = ("id", "name", "parent", "origin", *TEXT_FIELDS, *LIST_FIELDS, "color", "status", "codable")
