-- Idempotency-Keys now live in the chassis' flint_idempotency_keys (every service, one
-- implementation, the same encryption of responses that show a secret once); nothing reads
-- this table anymore. Keys in flight when this runs are forgotten, as after their expiry.
DROP TABLE idempotency_keys;
