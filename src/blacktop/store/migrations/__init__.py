"""Alembic migrations of blacktop's schema; ``blacktop.store.migrating`` runs them on start."""
