"""``python -m flint_refunds [--role all|api|worker] [--workers N]``: run the refunds service
(``flint_chassis.serve``). ``api`` takes refunds and runs them on the processor right away;
``worker`` keeps the order projection and resumes refunds left pending."""

from flint_chassis.serve import serve_main
from flint_refunds.config import RefundsSettings


def main(argv: list[str] | None = None) -> None:
    serve_main("flint_refunds.app:create_app", RefundsSettings, argv)


if __name__ == "__main__":
    main()
