"""dbt from a notebook: in-process runs on a local DuckDB file, results and lineage as data.

    from delab.services.dbt import duckdb_profile, dbt, lineage, lineage_figure
    duckdb_profile("food_dbt", "out/food.duckdb")          # profiles.yml next to dbt_project.yml
    run = dbt("food_dbt", "build")                          # dbt-core's dbtRunner, no subprocess
    run.results                                             # one row per node: name, kind, status, test
    lineage_figure(lineage(run.manifest)).show()            # sources -> staging -> marts

* Warehouse: the profile written by :func:`duckdb_profile` points dbt-duckdb at a DuckDB file, so the
  project runs with no server. Set ``DBT_PROFILES_DIR`` to a folder holding your own ``profiles.yml``
  (same profile name, e.g. a PostgreSQL or Snowflake target) and the same call runs the project there.
* Files: dbt writes ``target/`` (manifest, compiled SQL, run results) and ``logs/`` into the project,
  unless ``target_dir`` / ``log_dir`` say where; anonymous usage statistics are always off.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ServiceError

PROFILES_ENV = "DBT_PROFILES_DIR"
_PROFILE = """\
{name}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{path}"
      threads: {threads}
"""
_NODE_KINDS = ("source", "seed", "model", "snapshot")


@dataclass
class DbtRun:
    """The outcome of one dbt command: success, one row per node, and where its artifacts are."""

    command: str
    success: bool
    results: pd.DataFrame
    target_dir: Path
    error: str | None = None

    @property
    def manifest(self) -> Path:
        """``manifest.json`` of this run: every node with its dependencies (the lineage graph)."""
        return self.target_dir / "manifest.json"

    def statuses(self) -> dict[str, str]:
        """Node name -> status ("success", "pass", "fail", "error", "skipped", ...)."""
        return dict(zip(self.results["name"], self.results["status"], strict=True))

    def __repr__(self) -> str:
        counts = self.results["status"].value_counts().to_dict() if len(self.results) else {}
        why = f", error={self.error!r}" if self.error else ""
        return f"DbtRun({self.command!r}, success={self.success}, {counts}{why})"


def duckdb_profile(project_dir: str | Path, database: str | Path, threads: int = 1,
                   folder: str | Path | None = None) -> Path:
    """Write ``profiles.yml`` (into ``folder``, default the project) whose profile, the one named in
    ``dbt_project.yml``, uses the DuckDB file ``database`` (absolute, so dbt may run from anywhere)."""
    project = _project(project_dir)
    name = _profile_name(project)
    target = Path(database).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    out = Path(folder or project) / "profiles.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_PROFILE.format(name=name, path=target.as_posix(), threads=int(threads)))
    return out


def dbt(project_dir: str | Path, *args: str, profiles_dir: str | Path | None = None,
        target_dir: str | Path | None = None, log_dir: str | Path | None = None,
        quiet: bool = True) -> DbtRun:
    """Run ``dbt <args>`` (e.g. ``"build"``, ``"docs", "generate"``) in this process on the project.

    ``profiles.yml`` comes from ``DBT_PROFILES_DIR`` if set, else ``profiles_dir``, else the project
    folder (see :func:`duckdb_profile`). A failing model or test does not raise: see ``success``
    and ``results``.
    """
    if not args:
        raise ValueError("say which dbt command to run, e.g. dbt(project, 'build')")
    project = _project(project_dir)
    profiles = Path(os.environ.get(PROFILES_ENV) or profiles_dir or project)
    if not (profiles / "profiles.yml").is_file():
        raise ServiceError(f"no profiles.yml in {profiles}: call duckdb_profile({str(project)!r}, "
                           f"'<file>.duckdb') first, or point {PROFILES_ENV} at a folder that has one")
    target = Path(target_dir) if target_dir else project / "target"
    logs = Path(log_dir) if log_dir else project / "logs"
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from dbt.cli.main import dbtRunner

    cli = [*args, "--project-dir", str(project), "--profiles-dir", str(profiles),
           "--target-path", str(target.resolve()), "--log-path", str(logs.resolve())]
    res = dbtRunner().invoke([*cli, "--quiet"] if quiet else cli)
    error = None if res.exception is None else f"{type(res.exception).__name__}: {res.exception}"
    return DbtRun(" ".join(args), bool(res.success), _results(res.result), target, error)


def _project(project_dir: str | Path) -> Path:
    project = Path(project_dir).resolve()
    if not (project / "dbt_project.yml").is_file():
        raise ServiceError(f"{project} is not a dbt project (no dbt_project.yml there); "
                           "pass the folder that holds dbt_project.yml")
    return project


def _profile_name(project: Path) -> str:
    import yaml

    config = yaml.safe_load((project / "dbt_project.yml").read_text()) or {}
    return str(config.get("profile") or config.get("name") or "default")


def _results(result: Any) -> pd.DataFrame:
    """One row per executed node of a dbt result (empty when dbt stopped before running any)."""
    rows = []
    for r in getattr(result, "results", None) or []:
        node = r.node
        meta = getattr(node, "test_metadata", None)
        attached = getattr(node, "attached_node", None)
        rows.append({"name": node.name, "resource_type": str(node.resource_type), "status": str(r.status),
                     "test": meta.name if meta else None,
                     "model": attached.split(".")[-1] if attached else None,
                     "failures": r.failures, "seconds": round(float(r.execution_time or 0), 3)})
    columns = ["name", "resource_type", "status", "test", "model", "failures", "seconds"]
    return pd.DataFrame(rows, columns=columns)


def lineage(manifest: str | Path) -> pd.DataFrame:
    """The lineage graph of a project from its ``manifest.json``: one row per edge ``parent -> child``
    between sources, seeds, models and snapshots (tests left out), with each side's kind."""
    nodes = _manifest_nodes(Path(manifest))
    rows = [
        {"parent": nodes[p]["name"], "parent_kind": nodes[p]["kind"],
         "child": node["name"], "child_kind": node["kind"]}
        for node in nodes.values() for p in node["parents"] if p in nodes
    ]
    edges = pd.DataFrame(rows, columns=["parent", "parent_kind", "child", "child_kind"])
    return edges.sort_values(["parent", "child"], ignore_index=True)


def _manifest_nodes(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ServiceError(f"{path} does not exist: run dbt (parse, build or docs generate) first") from None
    found: dict[str, dict[str, Any]] = {}
    for uid, node in {**data.get("nodes", {}), **data.get("sources", {})}.items():
        kind = node.get("resource_type")
        if kind not in _NODE_KINDS:
            continue
        name = f"{node['source_name']}.{node['name']}" if kind == "source" else node["name"]
        found[uid] = {"name": name, "kind": kind, "parents": node.get("depends_on", {}).get("nodes", [])}
    return found


def lineage_figure(edges: pd.DataFrame, title: str = "dbt lineage") -> Any:
    """A plotly figure of the lineage graph: one column per depth, arrows from parent to child."""
    import plotly.graph_objects as go

    depth = _depths(edges)
    kinds = dict(zip(edges["parent"], edges["parent_kind"], strict=False))
    kinds |= dict(zip(edges["child"], edges["child_kind"], strict=False))
    pos: dict[str, tuple[float, float]] = {}
    for level in sorted(set(depth.values())):
        names = sorted(n for n, d in depth.items() if d == level)
        for i, name in enumerate(names):
            pos[name] = (level, i - (len(names) - 1) / 2)
    fig = go.Figure()
    for parent, child in zip(edges["parent"], edges["child"], strict=True):
        fig.add_annotation(x=pos[child][0], y=pos[child][1], ax=pos[parent][0], ay=pos[parent][1],
                           xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2,
                           standoff=14, startstandoff=14, opacity=0.6)
    for kind in sorted(set(kinds.values())):
        names = [n for n in pos if kinds.get(n) == kind]
        fig.add_trace(go.Scatter(x=[pos[n][0] for n in names], y=[pos[n][1] for n in names], text=names,
                                 mode="markers+text", textposition="top center", name=kind,
                                 marker={"size": 16}))
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False}, height=380)
    return fig


def _depths(edges: pd.DataFrame) -> dict[str, int]:
    """Longest distance of each node from a node without parents (its column in the picture)."""
    parents: dict[str, set[str]] = {}
    for parent, child in zip(edges["parent"], edges["child"], strict=True):
        parents.setdefault(child, set()).add(parent)
        parents.setdefault(parent, set())
    depth: dict[str, int] = {}

    def visit(name: str, seen: frozenset[str]) -> int:
        if name in seen:
            raise ServiceError(f"the lineage graph has a cycle through {name!r}")
        if name not in depth:
            depth[name] = max((visit(p, seen | {name}) + 1 for p in parents[name]), default=0)
        return depth[name]

    for name in parents:
        visit(name, frozenset())
    return depth
