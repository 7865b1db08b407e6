"""The balance rule under any mix of invoices: payable invoices never ask for more than the order owes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flint_contracts.events.actor import Actor
from flint_contracts.ids import new_id
from flint_invoicing.domain import AmountExceedsBalance, DomainError, Invoice, NothingDue, check_reminder_policy, held_by
from tests.invoicing.support import clock_at, eur, invoice_for, order

MERCHANT = Actor(type="merchant", id=new_id("mer"))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.one_of(st.none(), st.integers(-10, 6000))),
        st.tuples(st.just("void"), st.integers(0, 20)),
        st.tuples(st.just("write_off"), st.integers(0, 20)),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(balance=st.integers(0, 5000), steps=steps)
def test_payable_invoices_never_ask_for_more_than_the_balance_due(balance, steps):
    billable = order(balance_due=balance, paid=max(0, 4880 - balance))
    invoices: list[Invoice] = []
    for kind, value in steps:
        try:
            if kind == "invoice":
                amount = None if value is None else eur(value)
                invoices.append(invoice_for(billable, amount=amount, other_invoices=invoices))
            elif invoices:
                target = invoices[value % len(invoices)]
                if kind == "void":
                    target.void(clock=clock_at(), actor=MERCHANT)
                else:
                    target.mark_uncollectible(clock=clock_at(), actor=MERCHANT)
        except (AmountExceedsBalance, NothingDue):
            assert kind == "invoice"
        except DomainError as error:
            assert kind != "invoice" or error.field == "amount"  # a zero or negative amount
        assert held_by(invoices, billable.order_id, "EUR") <= billable.balance_due
    if balance == 0:
        assert invoices == []


@given(st.lists(st.integers(-60, 90), unique=True, max_size=10))
def test_any_valid_policy_is_kept_sorted_and_whole(offsets):
    assert check_reminder_policy(offsets) == tuple(sorted(offsets))
