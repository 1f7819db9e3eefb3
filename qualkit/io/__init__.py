"""Plumbing every other layer stands on: text decoding, line-numbered YAML, tabular files, safe archives, atomic writes, locks and manifests."""
