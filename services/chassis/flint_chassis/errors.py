"""Errors the chassis raises to its users."""


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
    command, on another topic, is not processed yet). Retried like any failure; when the
    tries run out it is dead-lettered with this reason and code."""

    def __init__(self, reason: str, *, code: str = "retry_later") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
