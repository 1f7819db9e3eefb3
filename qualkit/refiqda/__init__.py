"""REFI-QDA exchange: codebooks (``.qdc``) and whole projects (``.qdpx``) to and from other QDA tools.

* :func:`export_qdc` / :func:`import_qdc` (:mod:`.qdc`): a codebook with its hierarchy, colors and
  descriptions. qualkit's richer fields are packed into ``<Description>`` in a readable, parseable
  form (see :func:`~qualkit.refiqda.qdc.pack_description`), so a round trip restores them.
* :func:`export_qdpx` (:mod:`.qdpx_export`): the whole workspace, valid against the REFI-QDA 1.0
  ``Project.xsd``, with deterministic GUIDs so that re-exports diff well.
* :func:`import_qdpx` (:mod:`.qdpx_import`): a project made elsewhere into a new or existing
  workspace, leniently (draft namespaces, odd layouts), safely (:mod:`.archive`: no entities, no
  zip-slip, no zip bombs), converting selection positions (:mod:`.offsets`) and reporting what it
  could not carry over.

Every problem with an input file raises :class:`RefiQdaError`, a one-line
:class:`~qualkit.errors.QualkitError` naming the file and, where possible, the member and line.
"""
from __future__ import annotations

from typing import Any

from qualkit.errors import RefiQdaError  # noqa: F401  (defined with every other error in qualkit.errors)

_LAZY = {
    "export_codebook": ("qualkit.refiqda.codebook_formats", "export_codebook"),
    "read_taguette_csv": ("qualkit.refiqda.codebook_formats", "read_taguette_csv"),
    "export_qdc": ("qualkit.refiqda.qdc", "export_qdc"),
    "import_qdc": ("qualkit.refiqda.qdc", "import_qdc"),
    "read_qdc": ("qualkit.refiqda.qdc", "read_qdc"),
    "pack_description": ("qualkit.refiqda.qdc", "pack_description"),
    "unpack_description": ("qualkit.refiqda.qdc", "unpack_description"),
    "export_qdpx": ("qualkit.refiqda.qdpx_export", "export_qdpx"),
    "import_qdpx": ("qualkit.refiqda.qdpx_import", "import_qdpx"),
    "read_qdpx": ("qualkit.refiqda.qdpx_read", "read_qdpx"),
}

__all__ = ["RefiQdaError", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qualkit.refiqda' has no attribute {name!r}")
