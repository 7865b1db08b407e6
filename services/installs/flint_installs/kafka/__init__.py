"""Apps' access to Kafka: their SCRAM credential (``api``: shown once, rotatable) and the ACLs
that let them read their topic while they have an install (``sync``, state in ``repository``).
The broker calls themselves are ``flint_chassis.kafka_access``."""
