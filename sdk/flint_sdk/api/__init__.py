"""Every API call as an :class:`~flint_sdk.api.operation.Operation`, one module per resource."""
