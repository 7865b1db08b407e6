"""The sandbox from a shell: capture for an order, look up, refund, inject faults.

    python -m flint_payments capture --order ord_… --amount 28.80 --currency EUR [--card 4000000000000002]
                                     [--merchant mer_… [--publish]]
    python -m flint_payments charge sbx_ch_…
    python -m flint_payments refund sbx_ch_… --key rfd_… [--amount 5.00]
    python -m flint_payments fault refund response_lost [--times 2]
    python -m flint_payments faults [--clear]

``capture`` prints the ``payment.captured`` data (or ``payment.failed``, exit status 2),
or with ``--merchant`` the whole envelope; ``--publish`` also sends it to
``flint.payments.events.v1`` (key: the order id). Settings come from the environment
(``DATABASE_URL``, ``FLINT_SANDBOX_DATABASE``, ``KAFKA_BOOTSTRAP_SERVERS``). A payment error
prints ``<code>: <message>`` and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import get_args

from aiokafka import AIOKafkaProducer

from flint_chassis.cli import run_or_exit
from flint_chassis.outbox import event_headers
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import PaymentFailed, build_envelope
from flint_contracts.money import Money
from flint_contracts.topics import PAYMENTS_EVENTS
from flint_payments.capture import capture_payment, event_type_of
from flint_payments.errors import PaymentError
from flint_payments.faults import Failure, Operation
from flint_payments.processor import CardDetails
from flint_payments.sandbox import SandboxProcessor

DECLINED_EXIT = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is _capture:
        _checked_capture(parser, args)
    try:
        return run_or_exit(args.command(args))
    except PaymentError as error:
        print(f"flint-payments: {error.code}: {error.message}", file=sys.stderr)
        return 1


async def _capture(args: argparse.Namespace) -> int:
    async with await SandboxProcessor.open() as sandbox:
        data = await capture_payment(sandbox, order_id=args.order, amount=args.money, card=args.card_details,
                                     payment_id=args.payment_id, invoice_id=args.invoice)
    if args.merchant is None:
        print(data.model_dump_json())
    else:
        envelope = build_envelope(event_type_of(data), data, source="flint.payments-cli", merchant_id=args.merchant)
        if args.publish:
            await _publish(envelope, args.topic)
        print(envelope.model_dump_json())
    return DECLINED_EXIT if isinstance(data, PaymentFailed) else 0


async def _publish(envelope: EventEnvelope, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
                                enable_idempotence=True)
    await producer.start()
    try:
        headers = [(name, value.encode()) for name, value in event_headers(envelope)]
        await producer.send_and_wait(topic, envelope.to_bytes(), key=envelope.subject.encode(), headers=headers)
    finally:
        await producer.stop()


async def _charge(args: argparse.Namespace) -> int:
    async with await SandboxProcessor.open() as sandbox:
        print((await sandbox.get_charge(args.reference)).model_dump_json())
    return 0


async def _refund(args: argparse.Namespace) -> int:
    async with await SandboxProcessor.open() as sandbox:
        charge = await sandbox.get_charge(args.reference)
        try:
            amount = None if args.amount is None else Money.from_decimal(args.amount, charge.amount.currency)
        except ValueError as error:
            raise SystemExit(f"flint-payments: --amount {args.amount}: {error}") from None
        refund = await sandbox.refund(charge_reference=args.reference, amount=amount, idempotency_key=args.key)
    print(refund.model_dump_json())
    return 0


async def _fault(args: argparse.Namespace) -> int:
    async with await SandboxProcessor.open() as sandbox:
        await sandbox.faults.inject(args.operation, args.failure, times=args.times)
    return 0


async def _faults(args: argparse.Namespace) -> int:
    async with await SandboxProcessor.open() as sandbox:
        if args.clear:
            await sandbox.faults.clear()
        for operation, failure, left in await sandbox.faults.waiting():
            print(f"{operation}\t{failure}\t{left} call(s) left")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flint_payments", description="The Flint sandbox processor.")
    commands = parser.add_subparsers(required=True)

    capture = commands.add_parser("capture", help="capture a payment for an order and print its event")
    capture.add_argument("--order", required=True, help="the order id (ord_…)")
    capture.add_argument("--amount", required=True, help="in major units, e.g. 28.80")
    capture.add_argument("--currency", required=True, help="ISO-4217 code, e.g. EUR")
    capture.add_argument("--card", default="4242424242424242", help="a test card number (default: succeeds)")
    capture.add_argument("--exp", default=f"12/{datetime.now(UTC).year + 5}", help="MM/YYYY")
    capture.add_argument("--cvc", default="123")
    capture.add_argument("--payment-id", help="pay_… (default: a new one); also the idempotency key")
    capture.add_argument("--invoice", help="the invoice paid (inv_…)")
    capture.add_argument("--merchant", help="mer_…: print the whole envelope")
    capture.add_argument("--publish", action="store_true", help="also publish the envelope (needs --merchant)")
    capture.add_argument("--topic", default=PAYMENTS_EVENTS, help=argparse.SUPPRESS)
    capture.set_defaults(command=_capture)

    charge = commands.add_parser("charge", help="print a charge and its refunds")
    charge.add_argument("reference")
    charge.set_defaults(command=_charge)

    refund = commands.add_parser("refund", help="refund a charge, all that is left unless --amount")
    refund.add_argument("reference")
    refund.add_argument("--key", required=True, help="the idempotency key")
    refund.add_argument("--amount", help="in major units, e.g. 5.00")
    refund.set_defaults(command=_refund)

    fault = commands.add_parser("fault", help="make the next calls of an operation fail, in every process")
    fault.add_argument("operation", choices=get_args(Operation))
    fault.add_argument("failure", choices=get_args(Failure))
    fault.add_argument("--times", type=int, default=1)
    fault.set_defaults(command=_fault)

    faults = commands.add_parser("faults", help="list waiting faults")
    faults.add_argument("--clear", action="store_true", help="remove them all first")
    faults.set_defaults(command=_faults)
    return parser


def _checked_capture(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Amount and card parsed here, so a typo is a usage error, not a stack trace."""
    try:
        args.money = Money.from_decimal(args.amount, args.currency)
    except ValueError as error:
        parser.error(f"--amount {args.amount} --currency {args.currency}: {error}")
    try:
        month, year = (int(part) for part in args.exp.split("/"))
    except ValueError:
        parser.error("--exp is MM/YYYY, e.g. 12/2030")
    args.card_details = CardDetails.of(args.card, month, year, args.cvc)
    if args.publish and args.merchant is None:
        parser.error("--publish needs --merchant")


if __name__ == "__main__":
    sys.exit(main())
