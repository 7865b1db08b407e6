"""``python -m flint_orders [--role all|api|worker] [--workers N]``: run the orders service
(``flint_chassis.serve``). Its access log is the chassis' short one-line-per-request road
(``FLINT_ACCESS_LOG=false`` turns it off); reads are the hot path (docs/orders.md)."""

from flint_chassis.serve import serve_main
from flint_orders.config import OrdersSettings


def main(argv: list[str] | None = None) -> None:
    serve_main("flint_orders.app:create_app", OrdersSettings, argv)


if __name__ == "__main__":
    main()
