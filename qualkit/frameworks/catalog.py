"""Implementation frameworks (HEIF, CFIR 2.0, CFIR 2009, i-PARIHS, RE-AIM, EPIS) and references to them.

A framework is a tree of items: **domains**, optional **sub-domains**, **constructs** and, where the
framework has them (CFIR), **sub-constructs**. Built-in frameworks ship as YAML files in
``qualkit/data/frameworks/``; a workspace's ``frameworks/*.yaml`` files add new frameworks or replace
built-ins that have the same ``id``. A workspace file may also say ``extends: heif`` to start from an
already loaded framework and add or amend items (merged by id under the same parent).

File format (one framework per file)::

    id: heif                       # the framework id used in refs
    name: Health Equity Implementation Framework
    version: "2021"
    citation:                      # a mapping, or a list of them
      - {authors: "...", year: 2021, title: "...", journal: "...", volume: "2", pages: "61", doi: "10..."}
    domains:
      - id: societal_context       # snake_case, unique within the framework
        label: Societal context    # display name
        definition: ...            # a short paraphrase
        status: verified           # verified | secondary | unverified | inherited
        aliases: [Societal influence]
        code: III.D.1              # optional: the framework's own numbering (CFIR 2.0)
        source: "2021"             # optional: which paper/version the name comes from
        verified: false            # optional; defaults to false for unverified/inherited items
        subdomains: [...]          # under a domain
        constructs: [...]          # under a domain or a sub-domain
        subconstructs: [...]       # under a construct

References
----------
A reference to an item is ``framework:key``; the key may be any of

* the item's **id** (ids are unique within a framework, so this short form is unambiguous):
  ``heif:societal_context``, ``cfir2:partnerships_connections``;
* its **dotted path** of ids from the domain down: ``cfir2:outer_setting.partnerships_connections``,
  ``heif:context.outer``. Each segment after the first is matched among the children of the previous
  one by id, label or alias, so ``cfir2:implementation_process.engaging.innovation_deliverers`` works
  although several CFIR 2.0 items are labelled "Innovation Deliverers". The first segment may be any
  item, not only a domain (``cfir2:engaging.innovation_recipients``);
* the framework's own **code** where it has one: ``cfir2:III.D.1`` (Human Equality-Centeredness);
* a **label or alias**, ignoring case, punctuation, "and"/"&" and -isation/-ization spelling:
  ``heif:societal_influence``, ``heif:Societal influences``, ``cfir2:Innovation Evidence Base``. A
  label shared by several items (EPIS "Leadership") is an error that lists the candidates.

An unknown reference raises :class:`FrameworkRefError` with close matches. File problems raise
:class:`FrameworkError` naming the file and line.
"""
from __future__ import annotations

from qualkit.errors import FrameworkError, FrameworkRefError
from qualkit.frameworks.loading import available_frameworks, builtin_frameworks, framework_problems, load_framework
from qualkit.frameworks.model import (
    CHILD_KEYS,
    CITATION_KEYS,
    FRAMEWORK_KEYS,
    ITEM_KEYS,
    KINDS,
    STATUS_WORDS,
    UNCONFIRMED,
    Framework,
    FrameworkItem,
)
from qualkit.frameworks.refs import get_framework, resolve_ref

# The one place to import frameworks from: the model (model.py), reading files (loading.py, with the
# schema in schema.py) and finding frameworks and items by reference (refs.py).
__all__ = ["CHILD_KEYS", "CITATION_KEYS", "FRAMEWORK_KEYS", "ITEM_KEYS", "KINDS", "STATUS_WORDS", "UNCONFIRMED",
           "Framework", "FrameworkError", "FrameworkItem", "FrameworkRefError", "available_frameworks",
           "builtin_frameworks", "framework_problems", "get_framework", "load_framework", "resolve_ref"]
