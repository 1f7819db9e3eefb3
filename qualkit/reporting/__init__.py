"""Study-level outputs built on the analysis: the HTML report and `export all` (every manuscript table at once)."""
