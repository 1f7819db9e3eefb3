"""Analysis built on codings: unit tables, agreement orchestration, disagreements, reconciliation, themes, quotes, matrices, summaries and rapid analysis."""
