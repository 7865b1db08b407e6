"""Names and limits have one home: the contracts. A service that lists a vocabulary again
(statuses, reasons, methods, actor types, audiences, event types) fails here, naming the
file and line, because two lists drift apart the day one of them changes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flint_contracts import event_types, literals, timeline

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "services").rglob("*.py")) + sorted((ROOT / "sdk").rglob("*.py"))

VOCABULARIES: dict[str, frozenset[str]] = {
    "order statuses": literals.ORDER_STATUSES,
    "payment statuses": literals.PAYMENT_STATUSES,
    "payment methods": literals.PAYMENT_METHODS,
    "payment outcomes": literals.PAYMENT_OUTCOMES,
    "refund statuses": literals.REFUND_STATUSES,
    "refund reasons": literals.REFUND_REASONS,
    "invoice statuses": literals.INVOICE_STATUSES,
    "install statuses": literals.INSTALL_STATUSES,
    "actor types": literals.ACTOR_TYPES,
    "audiences": frozenset(literals.AUDIENCES),
    "scopes": frozenset(event_types.SCOPES),
    "order event types": frozenset(timeline.ORDER_EVENT_TYPES),
}


def relistings(tree: ast.AST) -> list[tuple[int, str]]:
    """Collections of string literals (lists, tuples, sets, Literal[...]) that hold every
    value of a vocabulary: the vocabulary written out again. (A part of one, such as the
    statuses an invoice may move to, is a rule of its own, not a copy.)"""
    found = []
    slices = {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    for node in ast.walk(tree):
        if id(node) in slices:
            continue
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Subscript) and getattr(node.value, "id", getattr(node.value, "attr", "")) == "Literal":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        else:
            continue
        words = {item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)}
        for name, vocabulary in VOCABULARIES.items():
            if vocabulary <= words:
                found.append((node.lineno, name))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_service_lists_a_vocabulary_of_the_contracts_again(path: Path) -> None:
    found = relistings(ast.parse(path.read_text(), filename=str(path)))
    assert not found, "; ".join(f"{path.relative_to(ROOT)}:{line} lists {name} again: import them from "
                                f"flint_contracts.literals" for line, name in found)


def test_the_check_finds_a_vocabulary_written_out_again() -> None:
    reasons = ", ".join(f'"{reason}"' for reason in sorted(literals.REFUND_REASONS))
    source = f'REASONS = frozenset({{{reasons}}})\nStatus = Literal["open", "completed", "canceled"]\nX = ["open"]\n'
    assert sorted(relistings(ast.parse(source))) == [(1, "refund reasons"), (2, "order statuses")]


def test_the_orders_domain_uses_the_contracts_lists_themselves() -> None:
    from flint_orders.domain import event_types as domain_types
    from flint_orders.domain import invoices, order

    assert domain_types.ORDER_EVENT_TYPES is timeline.ORDER_EVENT_TYPES
    assert domain_types.TIMELINE_TYPES is timeline.TIMELINE_TYPES
    assert order.PAYMENT_METHODS is literals.PAYMENT_METHODS and order.REFUND_REASONS is literals.REFUND_REASONS
    assert invoices.INVOICE_NEXT.keys() == literals.INVOICE_STATUSES


def test_refund_reasons_are_the_agreed_ones() -> None:
    assert literals.REFUND_REASONS == {"requested_by_customer", "returned_items", "defective", "duplicate",
                                       "fraudulent", "goodwill", "other"}
