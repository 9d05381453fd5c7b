"""The ``codesign`` command line: one module per command group (``data``, ``space``,
``train``, ``search``, ``reproduce``), each with a ``register(subparsers)`` function, and
``main`` (run by the ``codesign`` script through ``codesign.cli.main:script``)."""

from codesign.cli.main import main

__all__ = ["main"]
