-- Idempotency-Keys now live in the chassis' flint_idempotency_keys (every service, one
-- implementation); nothing reads this table anymore. Keys in flight when this runs are
-- forgotten: a retry after the upgrade creates anew, as after the keys' expiry.
DROP TABLE idempotency_keys;
