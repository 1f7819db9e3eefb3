"""Coding: editing and checking codebooks, codings operations, re-anchoring, units, the interactive session, auto-coding, search and imports."""
