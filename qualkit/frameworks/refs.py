"""Finding a framework by id and the item a reference such as ``heif:societal_context`` names
(see :mod:`qualkit.frameworks.catalog` for the reference forms)."""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

from qualkit.errors import FrameworkRefError
from qualkit.frameworks.loading import available_frameworks
from qualkit.frameworks.model import Framework, FrameworkItem, _norm

__all__ = ["get_framework", "resolve_ref"]


def get_framework(framework_id: str, extra_dirs: Iterable[str | Path] = (),
                  frameworks: Mapping[str, Framework] | None = None) -> Framework:
    """The framework with this id (case-insensitive); unknown ids raise :class:`FrameworkRefError`.

    ``heif@2019`` is HEIF with the labels of its 2019 version (see :meth:`Framework.for_version`)."""
    pool = frameworks if frameworks is not None else available_frameworks(extra_dirs)
    key = framework_id.strip()
    if "@" in key:
        base, version = key.split("@", 1)
        return get_framework(base, extra_dirs, pool).for_version(version)
    if key in pool:
        return pool[key]
    for fid, fw in pool.items():
        if fid.casefold() == key.casefold() or _norm(fw.name) == _norm(key):
            return fw
    close = difflib.get_close_matches(key.casefold(), list(pool), n=3, cutoff=0.5)
    raise FrameworkRefError(f"unknown framework '{framework_id}' (available: {', '.join(sorted(pool))})",
                            framework_id, close)


def resolve_ref(ref: str, extra_dirs: Iterable[str | Path] = (), *,
                frameworks: Mapping[str, Framework] | None = None, default: str | None = None) -> FrameworkItem:
    """The item a reference such as ``heif:societal_influence`` or ``cfir2:outer_setting.financing`` names.

    ``default`` is the framework used when ``ref`` has no ``framework:`` prefix. Pass ``frameworks``
    (from :func:`available_frameworks`) when resolving many references, to read the files once.
    """
    text = str(ref).strip()
    if ":" in text:
        fid, key = text.split(":", 1)
    elif default:
        fid, key = default, text
    else:
        raise FrameworkRefError(f"'{ref}' needs a framework prefix, e.g. heif:{text or 'societal_context'}", text)
    fw = get_framework(fid, extra_dirs, frameworks)
    return fw.resolve(key)
