"""``python -m flint_orders [--role all|api|worker] [--workers N]``: run the orders service
(``flint_chassis.serve``). No access log: reads are the hot path."""

from flint_chassis.serve import serve_main
from flint_orders.config import OrdersSettings


def main(argv: list[str] | None = None) -> None:
    serve_main("flint_orders.app:create_app", OrdersSettings, argv, access_log=False)


if __name__ == "__main__":
    main()
