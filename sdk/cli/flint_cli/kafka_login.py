"""The app's Kafka credential for ``events tail`` and ``listen``: given, kept, or asked for.

When neither an option, the environment nor the profile holds the app's Kafka password, the
CLI asks Flint for the app's credential (``POST /v1/apps/{app_id}/kafka-credential`` with the
app's client id and secret, docs/kafka.md) and keeps it in the profile: Flint shows the
password once. An app whose credential was made elsewhere (its plugin has it) gets a 409;
then the CLI says how to go on instead of rotating the password from under the plugin.
"""

from __future__ import annotations

from flint_cli import output
from flint_cli.failures import CliError
from flint_cli.session import Session
from flint_sdk import ConflictError, KafkaCredential, kafka_credential


def fetch(session: Session, *, rotate: bool = False) -> KafkaCredential:
    """Makes (or rotates) the app's credential and keeps it in the profile."""
    app = session.app()
    try:
        credential = kafka_credential(session.installs_url(), app.id, app.client_secret, rotate=rotate)
    except ConflictError as error:
        if error.code == "kafka_credential_exists":
            raise CliError(f"app {app.id} has a Kafka credential already, and profile {session.store.name!r} does "
                           "not hold its password: pass --kafka-password (or set FLINT_KAFKA_PASSWORD), or "
                           "`flint apps kafka-credential --rotate` for a new one (the old one stops at once)") from None
        raise
    session.profile.kafka.password = credential.password
    session.profile.kafka.bootstrap = credential.bootstrap_servers
    session.save()
    return credential


def password_for(session: Session) -> tuple[str, str]:
    """The app's password and plugin listener, asked of Flint and kept (see the module)."""
    credential = fetch(session)
    output.note(f"Made app {credential.username}'s Kafka credential (POST /v1/apps/{credential.username}"
                f"/kafka-credential); its password is kept in profile {session.store.name!r}.")
    return credential.password, credential.bootstrap_servers
