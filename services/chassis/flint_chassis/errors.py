"""Errors the chassis raises to its users, and the ones its users raise to tell the consumer
what to do with a message (docs/chassis.md, "What happens to a message")."""


class StartupError(RuntimeError):
    """A dependency could not be reached at start-up. Its message is one line naming what was tried."""


class PermanentError(Exception):
    """A message that can never be processed, however often it is retried (e.g. invalid data,
    a payment in another currency). The consumer dead-letters it at once with this reason."""

    def __init__(self, reason: str, *, code: str = "permanent_error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryLater(Exception):
    """A message that may apply a little later (e.g. a payment for an order whose create
    command, on another topic, is not processed yet). The consumer parks it and tries again
    with growing delays; when the parking budget runs out it is dead-lettered with this
    reason and code. Later messages of the same key wait behind it; other keys do not."""

    def __init__(self, reason: str, *, code: str = "retry_later") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Conflict(Exception):
    """A concurrent change got in the way (e.g. the row changed since it was read). The
    consumer retries a few times at once, then parks the message like ``RetryLater``."""
