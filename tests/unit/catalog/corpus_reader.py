"""A filesystem-backed fake of ``LocationReader`` over the shared Backstage corpus, for ingestion tests.

It loads every corpus descriptor into an ``InMemoryLocationReader`` keyed ``file:<absolute path>``
(so the domain code never touches the disk) and answers the remote ``$text`` URLs the example APIs
use with a small canned OpenAPI document, since tests have no network.
"""

from __future__ import annotations

from pathlib import Path

from blacktop.catalog import LocationSpec
from blacktop.catalog.adapters import InMemoryLocationReader

# tests/unit/catalog/ -> the checkout; ``shared`` lies beside it (see tests/corpus.py).
SHARED = (Path(__file__).resolve().parents[3] / ".." / "shared").resolve()
CORPUS = SHARED / "corpus" / "backstage"
ENTITIES = CORPUS / "entities"
EXAMPLES = ENTITIES / "backstage" / "packages" / "catalog-model" / "examples"
TEMPLATES = CORPUS / "templates"
SCHEMAS = CORPUS / "schema"
PAYMENT_SERVICE = SHARED / "examples" / "catalog-info-payment-service.yaml"

REMOTE_DEFINITION = 'openapi: "3.0.0"\ninfo: {title: canned remote definition, version: "1"}\npaths: {}\n'
REMOTE_URLS = (
    "https://github.com/APIs-guru/openapi-directory/blob/main/APIs/archive.org/search/1.0.0/openapi.yaml",
    "https://github.com/APIs-guru/openapi-directory/blob/dab6854d4d599aafb0eb36e6c7ae1fe0c37509b7/APIs/spotify.com/2021.4.2/openapi.yaml",
    "https://github.com/APIs-guru/openapi-directory/blob/main/APIs/archive.org/wayback/1.0.0/openapi.yaml",
    "https://demo.backstage.io/api/graphql/schema",
)


def file_location(path: Path) -> LocationSpec:
    """The ``file:`` location of a corpus path."""
    return LocationSpec("file", str(path.resolve()))


def corpus_reader() -> InMemoryLocationReader:
    """Every YAML file of the corpus entities and the payment-service example, plus canned remotes."""
    reader = InMemoryLocationReader()
    for path in [*sorted(ENTITIES.rglob("*.yaml")), PAYMENT_SERVICE]:
        reader.add(file_location(path), path.read_text(encoding="utf-8"))
    for url in REMOTE_URLS:
        reader.add(LocationSpec("url", url), REMOTE_DEFINITION)
    return reader
