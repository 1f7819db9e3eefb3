"""De-identification: propose identifiers in transcripts (`scan`), record the team's decisions
(deid.csv), apply them to every export through a redacted view of the workspace (`apply`), and
check finished files before they are shared (`check`). Originals are never modified."""
