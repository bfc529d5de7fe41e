"""The grader's version (part of every grading key: a new version regrades)."""

__version__ = "0.1.0"
