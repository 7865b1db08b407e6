"""One module per command group of ``flint``."""
