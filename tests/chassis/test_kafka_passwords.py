"""Apps' Kafka passwords can be pasted after a command-line option: none starts with a dash."""

from __future__ import annotations

from flint_chassis.kafka_access import PASSWORD_BYTES, new_password


def test_no_password_starts_with_a_dash_and_each_is_new():
    # given many passwords (about one in 64 URL-safe strings starts with "-")
    passwords = [new_password() for _ in range(5000)]
    # then none starts with a dash, each is as long as its entropy asks, and none repeats
    assert not [p for p in passwords if p.startswith("-")]
    assert {len(p) for p in passwords} == {len(new_password())} and len(new_password()) >= PASSWORD_BYTES * 4 // 3
    assert len(set(passwords)) == len(passwords)
