"""IO adapters of the resources context: server admins (psycopg, PyMySQL, redis-py), embedded servers,
CRD schema files and in-memory fakes. Only this package touches those libraries."""
