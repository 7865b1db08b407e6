"""flint_chassis: what every Flint service needs, built once.

settings (``config``), the asyncpg pool (``db``), forward-only migrations (``migrations``),
the transactional outbox and relay (``outbox``), idempotent consumers with dead letters
(``consumer``), JSON logs (``logs``), problem+json (``problems``), health (``health``), the
service's own secret (``service_secret``) and the HTTP contract of every API (``http``:
``service_app``).
"""
