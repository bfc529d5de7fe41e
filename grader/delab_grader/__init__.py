"""The course autograder: nbgrader-compatible, grades exported answers as data against references.

Students import only :mod:`delab_grader.student` (``answer`` and ``check``); everything else runs in the
grading process, outside the student's kernel.
"""

from delab_grader._version import __version__

__all__ = ["__version__"]
