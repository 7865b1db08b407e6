"""Sharing an amount of minor units out in whole units, so the parts always add up.

Two rules, both integer-only (no floats, no Decimal rounding modes to get wrong):

- :func:`largest_remainder` splits a total over weights (an order's discount over its
  lines): every part is the exact share rounded down, and the units left over go one each
  to the parts with the largest remainders (ties: the earlier part).
- :func:`cumulative_share` is the share of a total that the first ``done`` of ``count``
  units carry, rounded half up. What units ``r+1 .. r+k`` carry is
  ``cumulative_share(total, r + k, count) - cumulative_share(total, r, count)``, so any way
  of cutting the units into consecutive runs adds up to exactly ``total``.
"""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights``; the parts add up to ``total`` exactly.

    Each part is within one unit of its exact share, and a part whose weight is zero gets
    nothing. ``total`` and the weights must not be negative, and a positive total needs a
    positive weight somewhere.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("largest_remainder shares out non-negative amounts by non-negative weights")
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError(f"cannot share {total} over weights that are all zero")
        return [0] * len(weights)
    floors = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left_over = total - sum(floors)
    # Largest remainder first; among equals the earlier part, so the result is deterministic.
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left_over]:
        floors[index] += 1
    return floors


def cumulative_share(total: int, done: int, count: int) -> int:
    """The part of ``total`` that the first ``done`` of ``count`` units carry, rounded half up.

    ``cumulative_share(total, 0, n) == 0`` and ``cumulative_share(total, n, n) == total``,
    and it never decreases as ``done`` grows (for a non-negative total).
    """
    if count <= 0 or not 0 <= done <= count:
        raise ValueError(f"need 0 <= done <= count and count > 0, got done={done}, count={count}")
    if total < 0:
        raise ValueError("cumulative_share shares out a non-negative amount")
    return (2 * total * done + count) // (2 * count)


def share_of_units(total: int, taken_before: int, units: int, count: int) -> int:
    """What units ``taken_before + 1 .. taken_before + units`` of ``count`` carry of ``total``."""
    return cumulative_share(total, taken_before + units, count) - cumulative_share(total, taken_before, count)
