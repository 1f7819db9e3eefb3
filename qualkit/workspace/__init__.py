"""The workspace and its files: layout, typed config, participants, codebook and codings stores, and the data-access Workspace."""
