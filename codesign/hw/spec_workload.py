from codesign.mapping import SpecWorkload  # noqa: F401
