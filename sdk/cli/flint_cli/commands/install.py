"""``flint install``: the OAuth install with PKCE, as a plugin's backend does it, with the CLI
as the backend.

It listens on the app's redirect URI (:mod:`flint_cli.callback`), prints the authorize URL
for the merchant to open, waits for the browser to come back, checks the redirect and trades
the code (with the PKCE verifier) for tokens through the SDK's ``InstallFlow``, then keeps the
tokens in the profile and reads the install back with them.
"""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer

from flint_cli import output
from flint_cli.callback import CallbackServer
from flint_cli.failures import CliError
from flint_cli.profile import StoredInstall, StoredTokens
from flint_cli.state import session
from flint_sdk import InstallDenied, InstallFlow, PendingInstall, StateMismatch, TokenSet


def install(ctx: typer.Context,
            scope: Annotated[list[str] | None, typer.Option(
                "--scope", help="A scope to ask for (repeat it). Default: every scope the app registered.")] = None,
            open_browser: Annotated[bool, typer.Option(
                "--open", help="Open the authorize URL in this machine's browser.")] = False,
            timeout: Annotated[float, typer.Option(
                "--timeout", min=1, help="Seconds to wait for the browser to come back.")] = 300,
            as_json: Annotated[bool, typer.Option("--json", help="Print the install as JSON.")] = False) -> None:
    """Install your app on a merchant through the browser, and keep its tokens."""
    current = session(ctx)
    app = current.app()
    flow = InstallFlow(current.installs_url(), app.id, app.client_secret, app.redirect_uri)
    try:
        with CallbackServer(app.redirect_uri) as callback:
            pending = flow.start(scope or app.scopes)
            output.out.print(f"Open this URL to install {app.name} ({app.id}):", markup=False)
            output.out.print(pending.authorize_url, markup=False)
            if merchant := current.profile.merchant:
                output.out.print(f"Log in as merchant {merchant.id} ({merchant.name}) with its secret key "
                                 f"{merchant.secret_key}", markup=False)
            if open_browser:
                webbrowser.open(pending.authorize_url)
            with output.step(f"Waiting for the browser on {app.redirect_uri}"):
                returned = callback.wait(timeout)
        tokens = _finish(flow, pending, returned)
    finally:
        flow.close()
    current.profile.tokens = StoredTokens.of(tokens)
    current.remember_stack()
    current.save()  # first: the refresh token must survive whatever fails next
    with current.app_client() as client:
        own = client.installs.own()
    current.profile.install = StoredInstall(id=own.id, merchant_id=own.merchant_id, scopes=own.scopes)
    current.save()
    if as_json:
        output.print_json(own)
        return
    output.out.print(f"Installed {app.id} on merchant {own.merchant_id}: install {own.id}, scopes "
                     f"{' '.join(own.scopes)}. Tokens saved in profile {current.store.name!r}.", markup=False)


def _finish(flow: InstallFlow, pending: PendingInstall, returned: str) -> TokenSet:
    """The tokens of the redirect, or why there are none, in words."""
    try:
        return flow.finish(pending, returned)
    except InstallDenied as error:
        raise CliError(f"not installed: the merchant did not approve ({error})") from None
    except StateMismatch:
        raise CliError("not installed: the browser came back from another install attempt (state mismatch); "
                       "run `flint install` again") from None
