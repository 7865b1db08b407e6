-- One database per service (the same names deploy/stack.py creates locally).
CREATE DATABASE flint_installs;
CREATE DATABASE flint_orders;
CREATE DATABASE flint_refunds;
CREATE DATABASE flint_invoicing;
