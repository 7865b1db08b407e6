-- GET /v1/orders?updated_gte=...&updated_lt=...: plugins syncing incrementally ask for the
-- orders of one merchant changed in a time range.
CREATE INDEX orders_by_updated_at ON orders (merchant_id, updated_at);
