"""Week 1: the solution scores full marks, the blank release 0, and each question catches a mistake."""

from __future__ import annotations

import pytest
from conftest import WeekSuite

pytestmark = pytest.mark.slow
WEEK = "week01-introduction"

NO_LAKE = '''
components = pd.DataFrame(
    [("driver app", "source", "app"), ("rider app", "source", "app"),
     ("payments service", "source", "api"),
     ("event stream", "ingestion", "Kafka"), ("etl jobs", "processing", "Spark"),
     ("warehouse", "warehouse", "DuckDB"), ("ops dashboard", "bi", "plotly"),
     ("fraud model", "ml", "sklearn")],
    columns=["component", "layer", "tool"],
)
'''
NO_RIDER_APP = '''
components = pd.DataFrame(
    [("driver app", "source", "app"), ("payments service", "source", "api"),
     ("event stream", "ingestion", "Kafka"), ("data lake", "lake", "Parquet"),
     ("etl jobs", "processing", "Spark"), ("warehouse", "warehouse", "DuckDB"),
     ("ops dashboard", "bi", "plotly"), ("fraud model", "ml", "sklearn")],
    columns=["component", "layer", "tool"],
)
'''
PAYMENTS_SKIP_INGESTION = '''
flows = pd.DataFrame(
    [("driver app", "event stream", "trips"), ("rider app", "event stream", "requests"),
     ("payments service", "warehouse", "payments"), ("event stream", "data lake", "raw events"),
     ("data lake", "etl jobs", "raw files"), ("etl jobs", "warehouse", "tables"),
     ("warehouse", "ops dashboard", "kpis"), ("warehouse", "fraud model", "features")],
    columns=["source", "target", "data"],
)
'''
SANKEY_OF_LAYERS = '''
layer_flows = flows.assign(source=flows["source"].map(dict(zip(components.component, components.layer))),
                           target=flows["target"].map(dict(zip(components.component, components.layer))))
names = sorted(set(layer_flows.source) | set(layer_flows.target))
fig = go.Figure(go.Sankey(node=dict(label=names),
                          link=dict(source=[names.index(s) for s in layer_flows.source],
                                    target=[names.index(t) for t in layer_flows.target],
                                    value=[1] * len(layer_flows))))
'''
MUTANTS = {
    "no_lake": {"q1_components_code": NO_LAKE},
    "no_rider_app": {"q1_components_code": NO_RIDER_APP},
    "payments_skip_ingestion": {"q2_flows_code": PAYMENTS_SKIP_INGESTION},
    "sankey_of_layers": {"q3_diagram_code": SANKEY_OF_LAYERS},
}
#: the question each mutant must lose points on
CAUGHT_BY = {"no_lake": "q1_layers", "no_rider_app": "q1_sources",
             "payments_skip_ingestion": "q2_flows", "sankey_of_layers": "q3_diagram"}


class TestWeek01(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q1_layers"
    MUTANTS = MUTANTS
    CAUGHT_BY = CAUGHT_BY
    MESSAGE = "wrong"
