"""Apache Airflow in a notebook: no scheduler or web server, DAGs run in-process with ``dag.test()``.

    from delab.services.airflow import airflow_home, run_dag, dag_structure
    airflow_home("out/airflow")                   # BEFORE `import airflow`: config + metadata DB
    from airflow.sdk import DAG, task
    with DAG("daily", schedule="@daily", ...) as dag: ...
    run_dag(dag, "2025-03-03")                    # {"state": "success", "tasks": {"extract": "success", ...}}
    dag_structure(dag)                            # tasks, dependencies, schedule as plain data

* Metadata database: SQLite in ``<folder>/airflow.db``, created and migrated on the first call (a few
  seconds). Set ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` to use a real metadata database (e.g.
  PostgreSQL) instead; everything else is unchanged.
* Airflow reads its configuration once, at import: call :func:`airflow_home` before anything imports
  ``airflow`` (a kernel that already imported it with another home must be restarted).
* ``dag.test()`` in Airflow 3 runs only DAGs known to the metadata database; :func:`run_dag` registers
  the DAG object first (as the DAG processor would for a file in the DAGs folder), then runs it.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from .errors import ServiceError

DB_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
BUNDLE = "dags-folder"
_home: Path | None = None


def airflow_home(folder: str | Path = "airflow") -> Path:
    """Configure Airflow to keep everything in ``folder`` and create/migrate its metadata database."""
    global _home
    home = Path(folder).resolve()
    if _home == home:
        return home
    if "airflow" in sys.modules and Path(os.environ.get("AIRFLOW_HOME", "~/airflow")).expanduser() != home:
        raise ServiceError(
            f"airflow was already imported with AIRFLOW_HOME={os.environ.get('AIRFLOW_HOME', '~/airflow')}: "
            f"restart the kernel and call airflow_home({str(folder)!r}) before importing airflow"
        )
    (home / "dags").mkdir(parents=True, exist_ok=True)
    os.environ.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
    })
    os.environ.setdefault(DB_ENV, f"sqlite:///{home / 'airflow.db'}")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    _migrate(home)
    _home = home
    return home


def _migrate(home: Path) -> None:
    """Create the metadata tables (or upgrade them), skipped for a local database this helper already
    migrated with this Airflow version; a clear error if the database is unreachable."""
    from airflow import __version__
    from airflow.utils import db

    local = os.environ[DB_ENV] == f"sqlite:///{home / 'airflow.db'}"
    marker = home / ".migrated"
    if local and (home / "airflow.db").exists() and marker.exists() and marker.read_text() == __version__:
        return
    try:
        db.initdb()
    except Exception as exc:
        raise ServiceError(f"cannot prepare Airflow's metadata database {os.environ[DB_ENV]!r} ({exc}); "
                           f"check {DB_ENV}") from exc
    if local:
        marker.write_text(__version__)


def run_dag(dag: Any, logical_date: str | dt.date | dt.datetime) -> dict[str, Any]:
    """Run every task of ``dag`` once for ``logical_date`` (midnight UTC of a day, or a datetime),
    like the scheduler would, and return the run's state and each task's final state.

    Running it again for the same date clears and re-runs that date's tasks (a re-run, not a new run).
    """
    if _home is None:
        raise ServiceError("call airflow_home(...) before run_dag (it prepares Airflow's database)")
    _register(dag)
    run = dag.test(logical_date=_utc(logical_date))
    tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    return {"state": str(run.state), "tasks": dict(sorted(tasks.items()))}


def _register(dag: Any) -> None:
    """Store ``dag`` in the metadata database, serialized, as the DAG processor does for DAG files.

    Airflow also stores the DAG file's source: a DAG defined in a notebook cell has no file, so it
    gets a stub file saying where it came from (outside the DAGs folder, which Airflow scans).
    """
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    assert _home is not None
    if not Path(dag.fileloc or "").is_file():
        stub = _home / "notebook_dags" / f"{dag.dag_id}.py"
        stub.parent.mkdir(exist_ok=True)
        stub.write_text(f"# DAG {dag.dag_id!r}: defined in a notebook, registered by delab's run_dag().\n")
        dag.fileloc = str(stub)
    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    with create_session() as session:
        update_dag_parsing_results_in_db(BUNDLE, None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(),
                                         session=session)


def _utc(value: str | dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def dag_structure(dag: Any) -> dict[str, Any]:
    """A DAG's shape as plain data: id, schedule, catchup, task ids, dependency edges, retries."""
    edges = sorted([up, down] for down, task in dag.task_dict.items() for up in task.upstream_task_ids)
    schedule = getattr(dag, "schedule", None)
    if schedule is not None and not isinstance(schedule, str):
        schedule = getattr(dag.timetable, "summary", str(schedule))
    return {
        "dag_id": dag.dag_id,
        "schedule": schedule,
        "catchup": bool(dag.catchup),
        "tasks": sorted(dag.task_dict),
        "edges": edges,
        "retries": {tid: int(task.retries) for tid, task in sorted(dag.task_dict.items())},
    }
