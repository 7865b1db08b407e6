"""``python -m flint_installs [--role all|api|worker] [--workers N]``: run the installs service
(``flint_chassis.serve``) on FLINT_INSTALLS_PORT (8101)."""

from flint_chassis.serve import serve_main
from flint_installs.config import InstallsSettings


def main(argv: list[str] | None = None) -> None:
    serve_main("flint_installs.app:create_app", InstallsSettings, argv)


if __name__ == "__main__":
    main()
