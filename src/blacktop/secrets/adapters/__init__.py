"""Adapters for the secrets ports: the in-memory repository here, SQL in ``blacktop.store``."""
