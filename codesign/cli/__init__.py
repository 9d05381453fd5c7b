"""The ``codesign`` command line: one module per command group (``data``, ``space``,
``train``, ``search``, ``reproduce``), each with a ``register(subparsers)`` function, and
``main`` (the ``codesign`` entry point, ``codesign.cli:main``)."""

from codesign.cli.main import main

__all__ = ["main"]
