"""Flint's wire contracts. Pure pydantic, no I/O: every service and the SDK import it."""

from flint_contracts.envelope import EventEnvelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money, MixedCurrencyError

__all__ = ["EventEnvelope", "Money", "MixedCurrencyError", "new_id"]
