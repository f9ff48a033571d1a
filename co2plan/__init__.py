"""co2plan shared core: settings, lake I/O, canonical table contract, command line."""

__version__ = "0.1.0"
