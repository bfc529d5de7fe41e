"""delab_data: the course's seeded, scalable synthetic datasets (rides, food delivery, streaming, CDC).

Typical use::

    from delab_data import generate, parse_scale
    generate("data/tiny", parse_scale("tiny"), seed=42)

or from the shell: ``delab data --scale tiny``.
"""

GENERATOR_VERSION = "1.1.0"

__all__ = ["GENERATOR_VERSION"]
