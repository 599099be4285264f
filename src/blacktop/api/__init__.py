"""The HTTP API: thin FastAPI routes over the services the composition root builds."""

from .app import create_app
from .deps import ApiServices, AuditReader, Authenticator, TokenIssuer

__all__ = ["ApiServices", "AuditReader", "Authenticator", "TokenIssuer", "create_app"]
