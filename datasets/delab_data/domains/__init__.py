"""The dataset's domains. Importing this package registers every table and producer."""

from . import cdc, food, rides, streaming  # noqa: F401  (registration happens on import)
