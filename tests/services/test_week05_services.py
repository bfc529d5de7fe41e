"""delab.services.dbt and delab.services.airflow: dbt in-process on DuckDB, Airflow DAGs with dag.test()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from delab.services import ServiceError
from delab.services.airflow import run_dag
from delab.services.dbt import _depths, dbt, duckdb_profile, lineage, lineage_figure

PROJECT_FILES = {
    "dbt_project.yml": """
        name: shop
        version: "1.0.0"
        profile: shop_profile
        config-version: 2
        models:
          shop:
            +materialized: table
    """,
    "models/sources.yml": """
        version: 2
        sources:
          - name: raw
            schema: raw
            tables:
              - name: sales
    """,
    "models/stg_sales.sql": "select cast(id as bigint) as id, amount from {{ source('raw', 'sales') }}",
    "models/daily.sql": "select count(*) as sales, sum(amount) as amount from {{ ref('stg_sales') }}",
    "models/schema.yml": """
        version: 2
        models:
          - name: stg_sales
            columns:
              - name: id
                data_tests: [unique, not_null]
    """,
}


def make_project(root: Path, database: Path, ids: list[int]) -> Path:
    """A two-model dbt project reading raw.sales from ``database`` (filled with ``ids``)."""
    for rel, text in PROJECT_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).strip() + "\n")
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute("CREATE OR REPLACE TABLE raw.sales (id INTEGER, amount DOUBLE)")
        con.executemany("INSERT INTO raw.sales VALUES (?, ?)", [(i, 1.5 * i) for i in ids])
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    return make_project(tmp_path / "shop", tmp_path / "shop.duckdb", [1, 2, 3])


def test_duckdb_profile_uses_the_projects_profile_name(project: Path, tmp_path: Path) -> None:
    written = duckdb_profile(project, tmp_path / "wh" / "x.duckdb")
    text = written.read_text()
    assert written == project / "profiles.yml"
    assert text.startswith("shop_profile:") and f'path: "{tmp_path / "wh" / "x.duckdb"}"' in text
    elsewhere = duckdb_profile(project, "y.duckdb", folder=tmp_path / "profiles")
    assert elsewhere.parent == tmp_path / "profiles"
    assert str(Path("y.duckdb").resolve()) in elsewhere.read_text()


def test_build_runs_models_and_tests_and_reports_them_as_data(project: Path, tmp_path: Path) -> None:
    duckdb_profile(project, tmp_path / "shop.duckdb")
    run = dbt(project, "build", target_dir=tmp_path / "target", log_dir=tmp_path / "logs")
    assert run.success and run.error is None
    assert run.statuses() == {"stg_sales": "success", "daily": "success", "unique_stg_sales_id": "pass",
                              "not_null_stg_sales_id": "pass"}
    assert set(run.results.loc[run.results["resource_type"] == "test", "test"]) == {"unique", "not_null"}
    assert run.manifest.is_file() and not (project / "target").exists()
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as con:
        assert con.sql("SELECT sales, amount FROM daily").fetchall() == [(3, 9.0)]


def test_a_failing_test_is_reported_not_raised(project: Path, tmp_path: Path) -> None:
    make_project(project, tmp_path / "shop.duckdb", [1, 1, 2])
    duckdb_profile(project, tmp_path / "shop.duckdb")
    run = dbt(project, "build")
    assert not run.success
    assert run.statuses()["unique_stg_sales_id"] == "fail"
    assert run.statuses()["daily"] == "skipped"  # downstream of a failed test
    assert (project / "target" / "run_results.json").is_file()


def test_profiles_dir_setting_points_dbt_at_another_warehouse(project: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    duckdb_profile(project, tmp_path / "shop.duckdb")
    other = tmp_path / "other.duckdb"
    make_project(tmp_path / "scratch", other, [5, 6])
    duckdb_profile(project, other, folder=tmp_path / "real")
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path / "real"))
    assert dbt(project, "build").success
    with duckdb.connect(str(other)) as con:
        assert con.sql("SELECT sales FROM daily").fetchall() == [(2,)]


def test_lineage_edges_and_figure(project: Path, tmp_path: Path) -> None:
    duckdb_profile(project, tmp_path / "shop.duckdb")
    edges = lineage(dbt(project, "parse").manifest)
    assert edges[["parent", "child"]].values.tolist() == [["raw.sales", "stg_sales"], ["stg_sales", "daily"]]
    assert edges["parent_kind"].tolist() == ["source", "model"]
    fig = lineage_figure(edges)
    assert {t.name for t in fig.data} == {"source", "model"} and len(fig.layout.annotations) == 2


def test_clear_errors_on_bad_input(tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ServiceError, match="not a dbt project"):
        dbt(tmp_path, "build")
    with pytest.raises(ServiceError, match="duckdb_profile"):
        dbt(project, "build")
    with pytest.raises(ValueError, match="which dbt command"):
        dbt(project)
    with pytest.raises(ServiceError, match="run dbt"):
        lineage(tmp_path / "missing" / "manifest.json")
    import pandas as pd

    loop = pd.DataFrame({"parent": ["a", "b"], "child": ["b", "a"]})
    with pytest.raises(ServiceError, match="cycle"):
        _depths(loop)


def test_run_dag_needs_airflow_home_first() -> None:
    with pytest.raises(ServiceError, match="airflow_home"):
        run_dag(object(), "2025-01-01")


AIRFLOW_SCRIPT = """
import datetime as dt, json, sys
from delab.services.airflow import airflow_home, dag_structure, run_dag
airflow_home(sys.argv[1])
from airflow.sdk import DAG, get_current_context, task
seen = []
with DAG("probe", schedule="@daily", start_date=dt.datetime(2025, 1, 1), catchup=False,
         default_args={"retries": 1}) as dag:
    @task
    def first():
        return get_current_context()["ds"]
    @task
    def second(day):
        seen.append(day)
    second(first())
runs = [run_dag(dag, "2025-03-03"), run_dag(dag, "2025-03-03"), run_dag(dag, dt.date(2025, 3, 4))]
print(json.dumps({"structure": dag_structure(dag), "runs": runs, "seen": seen}))
"""


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Airflow configures itself once per process, at import: each check runs in a fresh interpreter."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                          env=base | (env or {}))


@pytest.mark.slow
def test_airflow_runs_a_dag_for_a_logical_date_in_process(tmp_path: Path) -> None:
    done = run_python(AIRFLOW_SCRIPT, str(tmp_path / "af"))
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["structure"] == {"dag_id": "probe", "schedule": "@daily", "catchup": False,
                                "tasks": ["first", "second"], "edges": [["first", "second"]],
                                "retries": {"first": 1, "second": 1}}
    ok = {"state": "success", "tasks": {"first": "success", "second": "success"}}
    assert out["runs"] == [ok, ok, ok]
    assert out["seen"] == ["2025-03-03", "2025-03-03", "2025-03-04"]
    assert (tmp_path / "af" / "airflow.db").is_file() and (tmp_path / "af" / ".migrated").is_file()
    assert not (tmp_path / "af" / "dags" / "probe.py").exists()  # the stub stays out of the DAGs folder


@pytest.mark.slow
def test_airflow_home_after_airflow_was_imported_elsewhere_says_restart(tmp_path: Path) -> None:
    code = ("import sys, airflow\nfrom delab.services.airflow import airflow_home\n"
            "try:\n    airflow_home(sys.argv[1])\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    done = run_python(code, str(tmp_path / "mine"), env={"AIRFLOW_HOME": str(tmp_path / "theirs")})
    assert "ServiceError" in done.stdout and "restart the kernel" in done.stdout, done.stderr[-2000:]
