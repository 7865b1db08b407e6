"""The invoicing service: invoices for what an order still owes, the hosted pay page, the
invoice PDF, the invoice and reminder emails, and the follow-up schedule.

Built so far (docs/invoicing.md): ``domain`` (the invoice and its rules), ``pdf``, ``pages``
(the hosted page's templates and view models), ``mail`` and ``smtp`` (composing and sending),
``mailsink`` (a local SMTP server for development). The service's API, consumers, outbox
wiring and migrations come later.
"""
