"""``flint apps create``: register your app on your stack and keep its credentials;
``flint apps kafka-credential``: the app's Kafka login for its own topic.

The app's redirect URI is the CLI's own callback, ``http://127.0.0.1:<port>/callback``, where
``flint install`` catches the merchant's browser coming back from the consent page.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flint_cli import admin, kafka_login, output
from flint_cli.failures import USAGE, CliError
from flint_cli.profile import StoredApp
from flint_cli.state import session
from flint_contracts import SCOPES

app = typer.Typer(help="Your app on the stack (admin key from the stack's environment).", no_args_is_help=True)

DEFAULT_CALLBACK_PORT = 8765


def callback_uri(port: int) -> str:
    return f"http://127.0.0.1:{port}/callback"


@app.command()
def create(ctx: typer.Context,
           name: Annotated[str, typer.Argument(help="Shown to merchants on the consent page.")],
           scope: Annotated[list[str] | None, typer.Option(
               "--scope", help=f"A scope the app may ask for (repeat it). Default: all of {', '.join(SCOPES)}.")]
           = None,
           port: Annotated[int, typer.Option(
               "--port", min=1, max=65535, help="Local port `flint install` catches the redirect on.")]
           = DEFAULT_CALLBACK_PORT,
           replace: Annotated[bool, typer.Option(
               "--replace", help="Replace the profile's app (its install and tokens are forgotten).")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="Print the app as JSON.")] = False) -> None:
    """Register an app and keep its client id and secret in the profile."""
    current = session(ctx)
    scopes = list(dict.fromkeys(scope)) if scope else list(SCOPES)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise CliError(f"unknown scope {', '.join(unknown)}; scopes are {', '.join(SCOPES)}", USAGE)
    if current.profile.app is not None and not replace:
        raise CliError(f"profile {current.store.name!r} already has app {current.profile.app.id}; "
                       "pass --replace, or use another --profile")
    made = admin.register_app(current.installs_url(), current.admin_key(), name, callback_uri(port), scopes)
    current.profile.app = StoredApp(id=made["id"], name=made["name"], client_secret=made["client_secret"],
                                    redirect_uri=made["redirect_uris"][0], scopes=made["scopes"])
    current.profile.install = current.profile.tokens = None  # they belonged to the app replaced
    current.remember_stack()
    current.save()
    shown = {key: made[key] for key in ("id", "name", "redirect_uris", "scopes", "created_at") if key in made}
    if as_json:
        output.print_json(shown)
        return
    output.out.print(f"App {made['id']} ({made['name']}) saved in profile {current.store.name!r}, "
                     f"with its client secret.", markup=False)
    output.out.print(f"Scopes: {' '.join(made['scopes'])}; redirect URI {made['redirect_uris'][0]}", markup=False)
    output.out.print("Next: `flint install` to install it on your merchant.", markup=False)


@app.command("kafka-credential")
def kafka_credential(ctx: typer.Context,
                     rotate: Annotated[bool, typer.Option(
                         "--rotate", help="A new password; the old one stops logging in at once.")] = False,
                     as_json: Annotated[bool, typer.Option("--json", help="Print the credential as JSON.")] = False,
                     ) -> None:
    """Make the app's Kafka credential (Flint shows the password once) and keep it in the
    profile, for `flint events tail` and `flint listen` (they make it themselves when needed)."""
    current = session(ctx)
    credential = kafka_login.fetch(current, rotate=rotate)
    if as_json:
        output.print_json(credential)
        return
    output.out.print(f"Kafka credential of {credential.username} kept in profile {current.store.name!r}: "
                     f"topic {credential.topic}, listener {credential.bootstrap_servers}, consumer groups "
                     f"{credential.group_prefix}.*", markup=False)
