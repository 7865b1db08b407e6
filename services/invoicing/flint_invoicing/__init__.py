"""The invoicing service: invoices for what an order still owes, the hosted pay page, the
invoice PDF, the invoice and reminder emails, and follow-up (docs/invoicing.md).

``python -m flint_invoicing --role api|worker|all``; the app is built by ``app.create_app``.
"""
