"""Migration revisions, one linear chain (``0001_resources`` first)."""
