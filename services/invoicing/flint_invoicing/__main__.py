"""``python -m flint_invoicing [--role all|api|worker] [--workers N]``: run the invoicing
service (``flint_chassis.serve``)."""

from flint_chassis.serve import serve_main
from flint_invoicing.config import InvoicingSettings


def main(argv: list[str] | None = None) -> None:
    serve_main("flint_invoicing.app:create_app", InvoicingSettings, argv)


if __name__ == "__main__":
    main()
