"""Rapid qualitative analysis: one summary template per transcript, and reading the filled ones back.

Rapid analysis (Hamilton 2013; Gale et al. 2019; Taylor et al. 2018) replaces line-by-line coding
with a **summary template** per interview or focus group: a header (who, when, what kind of
session) and one section per **domain**, in which the analyst writes short bullet paraphrases.
The bullets are then charted into a matrix (participants x domains, :mod:`qualkit.analysis.rapid`).

Domains
-------
Domains come from the **interview guide** (``interview_guide:`` in qualkit.yaml, one domain per
main question or topic) or from a **framework**'s top-level domains (``framework:heif``)::

    interview_guide:
      - id: referrals_data                # snake_case, unique
        label: Referrals and data         # the template heading; unique
        prompt: How do referrals get from your side to the team?   # optional (or `question:`)
        codes: [referral_delays, data_sharing_hipaa]               # optional: codes it covers
        framework: [heif:regulatory_frameworks]                    # optional: framework refs

A coded excerpt falls in a **guide domain** when its code is listed under the domain, or when the
code's nearest listed ancestor is (listing a parent code covers its sub-codes unless a sub-code is
listed itself), or when one of the code's framework refs resolves to an item the domain lists, or
to an item under it. It falls in a **framework domain** when one of its code's framework refs
resolves to that domain or to an item under it (a code without refs uses its parent's). An
excerpt may fall in several domains; it is then shown in each.

Templates
---------
``summaries/<transcript>.md`` (or ``.docx``): a header with ``Transcript:``, date, session type,
participants with their attributes, the domain source and the codings used; then per domain a
``## <label>`` heading, the guide question, the coded excerpts as a starting point (Markdown block
quotes, or Word's *Quote* style) and a ``Summary:`` area with empty bullets. Only the analyst's
bullets are read back; excerpts never are. A template carries a fingerprint of what qualkit wrote,
so any edit marks it as started and qualkit will not replace it (unless asked to, after a backup).
"""
from __future__ import annotations

from qualkit.analysis.sources import CodingSource, Excerpt, load_codings
from qualkit.analysis.summaries.guide import GUIDE_FIELDS, GUIDE_KEY, Domain, DomainSet, interview_guide, load_domains
from qualkit.analysis.summaries.read import (
    Bullet,
    DomainSummary,
    Summaries,
    SummaryFile,
    collect_summaries,
    error_text,
    read_summaries,
    read_template,
    template_paths,
)
from qualkit.analysis.summaries.render import (
    EMPTY_BULLETS,
    FORMATS,
    INSTRUCTIONS,
    TemplateResult,
    TemplateRun,
    render_docx,
    render_markdown,
    template_state,
    write_templates,
)
from qualkit.analysis.summaries.sessions import (
    MAX_EXCERPT_CHARS,
    SUMMARIES_DIR,
    Session,
    describe_participant,
    session_info,
    summaries_dir,
    template_quote,
    transcript_excerpts,
)
from qualkit.errors import SummaryError

__all__ = ["EMPTY_BULLETS", "FORMATS", "GUIDE_FIELDS", "GUIDE_KEY", "INSTRUCTIONS", "MAX_EXCERPT_CHARS", "SUMMARIES_DIR",
           "Bullet", "CodingSource", "Domain", "DomainSet", "DomainSummary", "Excerpt", "Session", "Summaries",
           "SummaryError", "SummaryFile", "TemplateResult", "TemplateRun", "collect_summaries", "describe_participant",
           "error_text", "interview_guide", "load_codings", "load_domains", "read_summaries", "read_template",
           "render_docx", "render_markdown", "session_info", "summaries_dir", "template_paths", "template_quote",
           "template_state", "transcript_excerpts", "write_templates"]
