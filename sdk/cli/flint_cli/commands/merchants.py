"""``flint merchants create``: a test merchant on your stack, kept in the profile.

``flint trigger`` creates orders with its secret key, and you log in as it on Flint's
consent page during ``flint install``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flint_cli import admin, output
from flint_cli.failures import CliError
from flint_cli.profile import StoredMerchant
from flint_cli.state import session

app = typer.Typer(help="Test merchants on your stack (admin key from the stack's environment).", no_args_is_help=True)


@app.command()
def create(ctx: typer.Context,
           name: Annotated[str, typer.Argument(help="The merchant's name, e.g. 'Acme Outdoor'.")],
           replace: Annotated[bool, typer.Option("--replace", help="Replace the profile's merchant.")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="Print the merchant as JSON.")] = False) -> None:
    """Create a merchant and keep its id and secret key in the profile."""
    current = session(ctx)
    if current.profile.merchant is not None and not replace:
        raise CliError(f"profile {current.store.name!r} already has merchant {current.profile.merchant.id}; "
                       "pass --replace, or use another --profile")
    made = admin.create_merchant(current.installs_url(), current.admin_key(), name)
    current.profile.merchant = StoredMerchant(id=made["id"], name=made["name"], secret_key=made["secret_key"])
    current.remember_stack()
    current.save()
    shown = {key: made[key] for key in ("id", "name", "secret_key", "created_at") if key in made}
    if as_json:
        output.print_json(shown)
        return
    output.out.print(f"Merchant {made['id']} ({made['name']}) saved in profile {current.store.name!r}.", markup=False)
    output.out.print(f"Its secret key logs you in on Flint's consent page: {made['secret_key']}", markup=False)
