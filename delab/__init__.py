"""The course tooling: paths and settings, the `delab` command line, and `doctor`."""

__version__ = "0.1.0"
