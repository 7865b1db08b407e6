"""Event and command payloads: what producers may send and what consumers can rely on."""

from __future__ import annotations

from datetime import datetime

from tests.contracts import contract_samples as make
import pytest
from tests.contracts.contract_samples import eur
from pydantic import BaseModel, ValidationError

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import (
    DATA_MODELS,
    Actor,
    CreateOrder,
    Customer,
    Discount,
    EventData,
    NoDataModelError,
    OrderEventData,
    RefundData,
    build_envelope,
    parse_data,
)
from flint_contracts.ids import new_id
from flint_contracts.money import Money

SAMPLES: dict[str, BaseModel] = {
    "PaymentCaptured": make.payment_captured(),
    "PaymentFailed": make.payment_failed(),
    "RefundLine": make.refund_line(),
    "RefundData pending": make.refund(),
    "RefundData succeeded": make.refund(status="succeeded", processor_reference="sbx_re_1"),
    "RefundData failed": make.refund(status="failed", failure_reason="charge_disputed"),
    "RefundData amount only": make.refund(lines=[], shipping=eur(0)),
    "Actor": Actor(type="system", id="flint.invoicing"),
    "InvoiceData": make.invoice(),
    "InvoiceData paid": make.invoice(status="paid", amount_paid=eur(4200), payment_id=new_id("pay")),
    "InstallData": make.install(),
    "Customer": Customer(email="ada@example.com"),
    "NewLineItem": make.line_item(),
    "CreateOrder": make.create_order(expected_total=eur(3760)),
    "CancelOrder": make.cancel_order(),
    "AddNote": make.add_note(),
    "OrderRecord": make.order(),
    "OrderEventData": make.order_event(),
    "WebhookEndpointDisabled": make.webhook_endpoint_disabled(),
    "MerchantData": make.merchant(),
}

# A payload for every type that has a data model.
ENVELOPED: dict[str, EventData] = {
    "payment.captured": SAMPLES["PaymentCaptured"],
    "payment.failed": SAMPLES["PaymentFailed"],
    "refund.created": SAMPLES["RefundData pending"],
    "refund.succeeded": SAMPLES["RefundData succeeded"],
    "refund.failed": SAMPLES["RefundData failed"],
    "invoice.created": SAMPLES["InvoiceData"],
    "invoice.sent": SAMPLES["InvoiceData"],
    "invoice.reminder_sent": make.invoice(reminder_number=2),
    "invoice.overdue": make.invoice(overdue=True),
    "invoice.paid": SAMPLES["InvoiceData paid"],
    "invoice.voided": make.invoice(status="void"),
    "invoice.marked_uncollectible": make.invoice(status="uncollectible"),
    "install.created": SAMPLES["InstallData"],
    "install.scopes_updated": make.install(scopes=["orders:read", "invoices:read"]),
    "install.uninstalled": make.install(status="uninstalled"),
    "order.create": SAMPLES["CreateOrder"],
    "order.cancel": SAMPLES["CancelOrder"],
    "order.add_note": SAMPLES["AddNote"],
    **{name: make.order_event(name) for name in types.REGISTRY if name.startswith("order.")
       and not types.get(name).is_command},
    "webhook_endpoint.disabled": SAMPLES["WebhookEndpointDisabled"],
    "merchant.created": SAMPLES["MerchantData"],
}


def envelope_of(type_: str, data: EventData, **fields: object) -> EventEnvelope:
    """An envelope built the way a producer must: merchant set, subject the order or install."""
    fields.setdefault("merchant_id", getattr(data, "merchant_id", None) or new_id("mer"))
    if isinstance(data, OrderEventData):  # an order event carries the order's version
        fields.setdefault("sequence", data.order.version)
        fields.setdefault("version", data.order.version)
    if data.subject_field is None:
        fields.setdefault("subject", new_id("ord"))
    return build_envelope(type_, data, source="tests", **fields)


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
def test_every_model_survives_json_and_back(sample: BaseModel) -> None:
    assert type(sample).model_validate_json(sample.model_dump_json()) == sample


@pytest.mark.parametrize(("type_", "data"), ENVELOPED.items(), ids=ENVELOPED.keys())
def test_a_consumer_reads_back_exactly_what_the_producer_published(type_: str, data: EventData) -> None:
    # given a producer's envelope sent as bytes
    raw = envelope_of(type_, data).to_bytes()
    # when a consumer reads it
    received = EventEnvelope.from_bytes(raw)
    # then it gets the same typed payload
    assert received.type == type_
    assert parse_data(received) == data


def test_every_registered_type_has_a_data_model_and_a_sample() -> None:
    assert ENVELOPED.keys() == DATA_MODELS.keys() == types.REGISTRY.keys()


# --- schema: what the AsyncAPI document shows -------------------------------------------------


def _models() -> set[type[BaseModel]]:
    return {type(sample) for sample in SAMPLES.values()} | {type(SAMPLES["CreateOrder"].discounts[0])}


@pytest.mark.parametrize("model", sorted(_models(), key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_every_field_is_documented_with_a_description_and_a_valid_example(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        assert field.examples, f"{model.__name__}.{name} has no examples"
    for example in model.model_json_schema().get("examples", []):
        model.model_validate(example)


@pytest.mark.parametrize("model", sorted(set(DATA_MODELS.values()), key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_every_payload_model_has_an_example_and_refuses_unknown_fields(model: type[EventData]) -> None:
    [example] = model.model_json_schema()["examples"]
    model.model_validate(example)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate(example | {"surprise": 1})


# --- ids, quantities, amounts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field", "wrong"),
    [
        (make.payment_captured, "order_id", new_id("pay")),
        (make.payment_captured, "payment_id", "42"),
        (make.refund, "refund_id", new_id("ord")),
        (make.refund, "payment_id", new_id("rfd")),
        (make.invoice, "invoice_id", new_id("inv").lower()),
        (make.install, "app_id", new_id("ins")),
        (make.create_order, "merchant_id", new_id("app")),
        (make.refund_line, "line_item_id", new_id("ord")),
    ],
)
def test_an_id_of_the_wrong_kind_is_refused_naming_the_kind(build, field: str, wrong: str) -> None:
    with pytest.raises(ValidationError) as raised:
        build(**{field: wrong})
    [error] = raised.value.errors()
    assert error["loc"] == (field,)
    assert "id like" in error["msg"]


@pytest.mark.parametrize("quantity", [0, -1, 1.5, 2.0, "2", True])
def test_an_order_line_needs_a_whole_positive_quantity(quantity: object) -> None:
    with pytest.raises(ValidationError):
        make.line_item(quantity=quantity)


@pytest.mark.parametrize(
    ("build", "field", "amount"),
    [
        (make.line_item, "unit_price", -1),
        (make.line_item, "tax", -1),
        (make.create_order, "shipping", -1),
        (make.refund, "shipping", -1),
        (make.refund, "amount", 0),
        (make.refund_line, "amount", -1),
        (make.payment_captured, "amount", 0),
        (make.payment_failed, "amount", -4200),
        (make.invoice, "amount_due", -1),
        (make.invoice, "amount_paid", -1),
    ],
)
def test_amounts_that_cannot_be_negative_are_refused(build, field: str, amount: int) -> None:
    with pytest.raises(ValidationError) as raised:
        build(**{field: eur(amount)})
    assert raised.value.errors()[0]["loc"][0] == field


def test_timestamps_must_carry_a_time_zone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        make.payment_captured(captured_at=datetime(2026, 11, 27, 12, 0))


# --- refunds -----------------------------------------------------------------------------------


def test_a_refund_line_in_another_currency_is_refused() -> None:
    usd_line = make.refund_line(amount=Money(amount=1000, currency="USD"))
    with pytest.raises(ValidationError, match=r"lines\[0\]\.amount is in USD but the total is in EUR"):
        make.refund(lines=[usd_line])


def test_refund_lines_and_shipping_cannot_exceed_the_refund() -> None:
    with pytest.raises(ValidationError, match="more than the refund's amount"):
        make.refund(amount=eur(1499))
    assert make.refund(amount=eur(2000)).amount == eur(2000)  # the rest is an amount not tied to a line


def test_a_refund_line_must_refund_something() -> None:
    with pytest.raises(ValidationError, match="items or money"):
        make.refund_line(quantity=0, amount=eur(0))
    assert make.refund_line(quantity=0, amount=eur(200)).quantity == 0  # a price adjustment


def test_a_line_item_appears_once_per_refund() -> None:
    line = make.refund_line(amount=eur(500))
    with pytest.raises(ValidationError, match="only once"):
        make.refund(lines=[line, line])


def test_a_failed_refund_says_why_and_a_succeeded_one_names_the_processor_reference() -> None:
    with pytest.raises(ValidationError, match="failure_reason"):
        make.refund(status="failed")
    with pytest.raises(ValidationError, match="processor_reference"):
        make.refund(status="succeeded")
    with pytest.raises(ValidationError, match="only for failed"):
        make.refund(failure_reason="card_expired")


@pytest.mark.parametrize("reason", ["changed_mind", "", None])
def test_a_refund_reason_comes_from_the_list(reason: object) -> None:
    with pytest.raises(ValidationError):
        make.refund(reason=reason)


@pytest.mark.parametrize(
    ("actor_type", "actor_id"),
    [("app", None), ("app", new_id("mer")), ("merchant", new_id("app")), ("robot", None)],
)
def test_an_actor_is_named_by_the_id_its_type_needs(actor_type: str, actor_id: str | None) -> None:
    with pytest.raises(ValidationError):
        Actor(type=actor_type, id=actor_id)


# --- invoices and installs ---------------------------------------------------------------------


def test_a_paid_invoice_names_its_payment_and_is_fully_paid() -> None:
    with pytest.raises(ValidationError, match="payment_id"):
        make.invoice(status="paid", amount_paid=eur(4200))
    with pytest.raises(ValidationError, match="below amount_due"):
        make.invoice(status="paid", amount_paid=eur(4000), payment_id=new_id("pay"))


def test_invoice_amounts_share_one_currency() -> None:
    with pytest.raises(ValidationError, match="amount_paid is in USD"):
        make.invoice(amount_paid=Money(amount=0, currency="USD"))


def test_an_install_holds_only_known_scopes_once_each() -> None:
    with pytest.raises(ValidationError, match="orders:everything"):
        make.install(scopes=["orders:everything"])
    with pytest.raises(ValidationError, match="only once"):
        make.install(scopes=["orders:read", "orders:read"])


# --- create order ------------------------------------------------------------------------------


def test_an_order_total_is_lines_plus_shipping_minus_discounts() -> None:
    order = make.create_order()
    # 2 x 15.00 + 5.70 tax, + 4.90 shipping, - 3.00 discount
    assert order.subtotal() == eur(3570)
    assert order.total() == eur(3760)


def test_a_stated_total_that_does_not_match_is_refused() -> None:
    with pytest.raises(ValidationError, match="expected_total is 37.00 EUR but the order comes to 37.60 EUR"):
        make.create_order(expected_total=eur(3700))


def test_an_order_in_one_currency_refuses_amounts_in_another() -> None:
    with pytest.raises(ValidationError, match=r"line_items\[0\]\.unit_price is in USD"):
        make.create_order(line_items=[make.line_item(unit_price=Money(amount=1500, currency="USD"))])
    with pytest.raises(ValidationError, match="expected_total is in JPY"):
        make.create_order(expected_total=Money(amount=3760, currency="JPY"))


def test_discounts_cannot_make_an_order_cost_less_than_nothing() -> None:
    with pytest.raises(ValidationError, match="exceed"):
        make.create_order(discounts=[Discount(code="ALL", amount=eur(5000))])


def test_an_order_needs_a_line_a_buyer_email_and_clean_tags() -> None:
    with pytest.raises(ValidationError, match="line_items"):
        make.create_order(line_items=[])
    with pytest.raises(ValidationError, match="email"):
        make.create_order(customer={"email": "not-an-email"})
    with pytest.raises(ValidationError, match="tags"):
        make.create_order(tags=["a/b"])
    with pytest.raises(ValidationError, match="only once"):
        make.create_order(tags=["gift", "gift"])


def test_a_yen_order_adds_up_in_whole_yen() -> None:
    yen = lambda amount: Money(amount=amount, currency="JPY")  # noqa: E731
    order = make.create_order(
        currency="JPY",
        line_items=[make.line_item(quantity=3, unit_price=yen(500), tax=yen(150))],
        shipping=yen(0),
        discounts=[],
        expected_total=yen(1650),
    )
    assert str(order.total()) == "1650 JPY"


# --- parse_data: the payload checked against its envelope --------------------------------------


def test_a_refund_event_must_carry_a_refund_in_the_matching_state() -> None:
    # given a refund.failed envelope whose refund says it succeeded
    envelope = envelope_of(types.REFUND_SUCCEEDED, SAMPLES["RefundData succeeded"])
    mislabelled = envelope.model_copy(update={"type": types.REFUND_FAILED})
    # when a consumer parses it, then it is refused with the reason
    with pytest.raises(ValidationError, match="refund.failed event must carry a failed refund"):
        parse_data(mislabelled)


@pytest.mark.parametrize(
    ("type_", "data", "message"),
    [
        (types.INVOICE_PAID, make.invoice(), "paid"),
        (types.INVOICE_REMINDER_SENT, make.invoice(), "reminder_number"),
        (types.INVOICE_OVERDUE, make.invoice(), "overdue: true"),
        (types.INSTALL_UNINSTALLED, make.install(), "uninstalled install"),
        (types.INSTALL_CREATED, make.install(status="uninstalled"), "active install"),
    ],
)
def test_a_payload_that_contradicts_its_event_type_is_refused(type_: str, data: EventData, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        envelope_of(type_, data)


def test_the_envelope_subject_must_be_the_order_the_event_is_about() -> None:
    envelope = envelope_of(types.PAYMENT_CAPTURED, SAMPLES["PaymentCaptured"])
    other_order = envelope.model_copy(update={"subject": new_id("ord")})
    with pytest.raises(ValidationError, match="subject must be the order_id"):
        parse_data(other_order)


def test_a_command_must_name_its_order_as_subject() -> None:
    with pytest.raises(ValidationError, match="subject must be an id starting with ord_"):
        build_envelope(types.ORDER_CANCEL, make.cancel_order(), source="tests", merchant_id=new_id("mer"))


def test_data_of_one_merchant_in_another_merchants_envelope_is_refused() -> None:
    envelope = envelope_of(types.ORDER_CREATE, SAMPLES["CreateOrder"])
    with pytest.raises(ValidationError, match="differs from the envelope"):
        parse_data(envelope.model_copy(update={"merchant_id": new_id("mer")}))


def test_an_envelope_without_a_merchant_is_refused() -> None:
    envelope = envelope_of(types.REFUND_CREATED, SAMPLES["RefundData pending"])
    with pytest.raises(ValidationError, match="merchant_id must be a merchant id"):
        parse_data(envelope.model_copy(update={"merchant_id": None}))


def test_an_unknown_type_is_refused_as_unknown() -> None:
    with pytest.raises(KeyError, match="order.exploded"):
        parse_data(EventEnvelope(type="order.exploded", source="tests", merchant_id=new_id("mer")))


def test_a_type_without_a_data_model_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(DATA_MODELS, types.ORDER_PAID)
    with pytest.raises(NoDataModelError, match="order.paid"):
        parse_data(EventEnvelope(type=types.ORDER_PAID, source="tests", merchant_id=new_id("mer")))


def test_parse_data_refuses_a_broken_payload_naming_the_field() -> None:
    envelope = envelope_of(types.REFUND_CREATED, SAMPLES["RefundData pending"])
    broken = envelope.model_copy(update={"data": envelope.data | {"amount": {"amount": 12.5, "currency": "EUR"}}})
    with pytest.raises(ValidationError) as raised:
        parse_data(broken)
    assert raised.value.errors()[0]["loc"][:2] == ("amount", "amount")


def test_build_envelope_refuses_the_wrong_model_for_a_type() -> None:
    with pytest.raises(TypeError, match="refund.created carries RefundData"):
        build_envelope(types.REFUND_CREATED, SAMPLES["PaymentCaptured"], source="tests", merchant_id=new_id("mer"))


def test_build_envelope_takes_subject_and_merchant_from_the_data() -> None:
    refund: RefundData = SAMPLES["RefundData pending"]
    merchant = new_id("mer")
    envelope = build_envelope(types.REFUND_CREATED, refund, source="flint.refunds", merchant_id=merchant)
    assert (envelope.subject, envelope.merchant_id) == (refund.order_id, merchant)
    order: CreateOrder = SAMPLES["CreateOrder"]
    command = build_envelope(types.ORDER_CREATE, order, source="checkout", subject=new_id("ord"))
    assert command.merchant_id == order.merchant_id
