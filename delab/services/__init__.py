"""Local services for notebooks, each started with one call and cleaned up afterwards.

    from delab.services import postgres, warehouse, register_dataset
    pg = postgres()                       # PostgreSQL (or DATABASE_URL's server), see .postgres
    con = warehouse()                     # DuckDB file in the state folder, see .warehouse
    register_dataset(con)                 # views trips, drivers, ... over the shared dataset
"""

from .errors import PortInUseError, ServiceError
from .ports import free_port, port_in_use, wait_for_port
from .postgres import LOGICAL_DECODING, PostgresServer, postgres
from .warehouse import register_dataset, warehouse

__all__ = [
    "LOGICAL_DECODING",
    "PortInUseError",
    "PostgresServer",
    "ServiceError",
    "free_port",
    "port_in_use",
    "postgres",
    "register_dataset",
    "wait_for_port",
    "warehouse",
]
