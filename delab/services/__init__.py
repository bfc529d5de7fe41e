"""Local services for notebooks, each started with one call and cleaned up afterwards.

    from delab.services import postgres, warehouse, register_dataset
    pg = postgres()                       # PostgreSQL (or DATABASE_URL's server), see .postgres
    con = warehouse()                     # DuckDB file in the state folder, see .warehouse
    register_dataset(con)                 # views trips, drivers, ... over the shared dataset

The heavier engines live in their own modules, so that importing this package stays light:

| import | engine | the setting for a real service |
|---|---|---|
| ``from delab.services.dbt import dbt`` | dbt-core + dbt-duckdb, in-process | ``DBT_PROFILES_DIR`` |
| ``from delab.services.airflow import airflow_home, run_dag`` | Airflow on SQLite, ``dag.test()`` | |
| ``from delab.services.vendor_api import vendor_api`` | the course's vendor REST API | ``VENDOR_API_URL`` |
| ``from delab.services.kafka import kafka`` | librdkafka's mock Kafka cluster | ``KAFKA_BOOTSTRAP_SERVERS`` |
| ``from delab.services.spark import spark_session`` | Spark, ``local[2]`` | ``SPARK_MASTER`` |
| ``from delab.services.s3 import s3`` | moto's S3 API on loopback | ``S3_ENDPOINT_URL`` |

(Airflow's metadata database: ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``.)
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
