"""The dataset's domains. Importing this package registers every table and producer."""

from . import rides, food, streaming, cdc  # noqa: F401  (registration happens on import)
