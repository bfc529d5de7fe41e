"""The comparison engine on its own: tables, values, options, parts and checks (no kernels)."""

from __future__ import annotations

import pandas as pd
import pytest
from delab_grader.compare import compare_values, grade_answer
from delab_grader.exports import Export
from delab_grader.spec import SpecError, make_spec

REF = pd.DataFrame({"id": [1, 2, 3], "city": ["a", "b", "c"], "total": [10.0, 20.0, 30.0]})


def table(df: pd.DataFrame, **artifact) -> Export:
    return Export("q", "artifact" if artifact else "table", table=df, artifact=artifact)


def value(v) -> Export:
    return Export("q", "value", value=v)


def grade(actual, expected=REF, **spec):
    exp = table(expected) if isinstance(expected, pd.DataFrame) else value(expected)
    act = table(actual) if isinstance(actual, pd.DataFrame) else value(actual)
    return grade_answer(exp, act, make_spec(**spec))


def text(outcome) -> str:
    return "\n".join(outcome.messages)


def test_identical_table_is_correct():
    assert grade(REF.copy()).fraction == 1


def test_row_order_ignored_by_default_with_a_note():
    out = grade(REF.iloc[::-1].reset_index(drop=True))
    assert out.passed
    assert "sorted differently from the reference, but order does not matter here" in text(out)


def test_row_order_matters_when_ordered():
    out = grade(REF.iloc[::-1].reset_index(drop=True), ordered=True)
    assert out.fraction == 0
    assert "right rows, but in the wrong order" in text(out)


def test_float_tolerance_is_used_and_reported():
    close = REF.assign(total=REF.total + 1e-9)
    assert grade(close).passed
    out = grade(REF.assign(total=REF.total + 0.5), rtol=1e-3)
    assert not out.passed and "rtol=0.001" in text(out)
    assert "total (yours)" in text(out) and "total (expected)" in text(out)


def test_row_count_difference_is_explained():
    out = grade(REF.head(2))
    assert "expected 3 rows, your table has 2" in text(out)


def test_column_name_leniency():
    renamed = REF.rename(columns={"city": " City "})
    assert grade(renamed).passed  # default names="case"
    assert "missing column(s) ['city']" in text(grade(renamed, names="exact"))
    positional = REF.set_axis(["x", "y", "z"], axis=1)
    assert grade(positional, names="position").passed


def test_extra_and_missing_columns():
    assert "unexpected extra column(s) ['extra']" in text(grade(REF.assign(extra=1)))
    assert "missing column(s) ['total']" in text(grade(REF.drop(columns="total")))
    assert grade(REF.assign(extra=1), columns=["id", "total"]).passed


def test_column_order_only_when_asked():
    swapped = REF[["total", "id", "city"]]
    assert grade(swapped).passed
    assert "columns are in the wrong order" in text(grade(swapped, column_order=True))


def test_keys_report_missing_and_extra_rows():
    other = pd.DataFrame({"id": [1, 2, 4], "city": ["a", "b", "d"], "total": [10.0, 20.0, 40.0]})
    out = grade(other, keys=["id"])
    assert "1 expected row(s) missing, e.g. ['id'] = ['3']" in text(out)
    assert "1 row(s) should not be there" in text(out)


def test_keys_match_int_and_float_keys():
    assert grade(REF.assign(id=REF.id.astype(float)), keys="id").passed


def test_parts_give_partial_credit():
    wrong_total = REF.assign(total=[1.0, 2.0, 3.0])
    out = grade(
        wrong_total, keys=["id"], parts={"city": ["city"], "total": {"columns": ["total"], "weight": 3}}
    )
    assert out.fraction == pytest.approx(0.25)
    assert out.parts == {"city": True, "total": False}


def test_datetime_and_date_compare_equal():
    stamps = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    assert grade(stamps.assign(d=stamps.d.dt.tz_localize("UTC")), expected=stamps).passed


def test_values_scalars_lists_dicts():
    assert grade(3.0000001, expected=3.0).passed
    assert "expected 3.0, got 4.0" in text(grade(4.0, expected=3.0))
    assert "expected a number, got a string" in text(grade("3", expected=3))
    assert grade(["b", "a"], expected=["a", "b"], ordered=False).passed
    assert "wrong order" in text(grade(["b", "a"], expected=["a", "b"]))
    assert "missing key(s) ['y']" in text(grade({"x": 1}, expected={"x": 1, "y": 2}))


def test_dict_parts():
    out = grade(
        {"mean": 1.0, "max": 9.0},
        expected={"mean": 1.0, "max": 5.0},
        parts={"mean": ["mean"], "max": ["max"]},
    )
    assert out.fraction == 0.5 and "max: wrong" in text(out)


def test_table_expected_but_value_given():
    assert "expected a table" in text(grade(5, expected=REF))


def test_custom_checks_gate_or_count_as_parts():
    no_pk = table(REF, type="duckdb_table", name="t", exists=True, primary_key=[])
    with_pk = table(REF, type="duckdb_table", name="t", exists=True, primary_key=["id"])
    spec = make_spec(checks=["primary_key:id"])
    assert grade_answer(with_pk, with_pk, spec).passed
    out = grade_answer(with_pk, no_pk, spec)
    assert out.fraction == 0 and "no PRIMARY KEY" in text(out)
    parts = make_spec(checks=["primary_key:id", "unique:id", "not_null:city"], parts={"rows": ["id"]})
    assert grade_answer(with_pk, no_pk, parts).fraction == pytest.approx(0.75)


def test_missing_artifact():
    exp = table(REF, type="csv", name="out.csv", exists=True)
    act = Export("q", "artifact", artifact={"type": "missing", "name": "out.csv", "exists": False})
    assert "'out.csv' was not found" in text(grade_answer(exp, act, make_spec()))


def test_bad_options_are_explained():
    with pytest.raises(SpecError, match=r"unknown answer\(\) option"):
        make_spec(tolerance=1)
    with pytest.raises(SpecError, match=r"names=\.\.\."):
        make_spec(names="fuzzy")


def test_compare_values_nested_tolerance():
    assert compare_values({"a": [1.0, 2.0]}, {"a": [1.0, 2.0 + 1e-12]}, make_spec()) == []


def test_missing_key_column_is_explained_not_a_crash():
    out = grade(REF.drop(columns="id"), keys=["id"])
    assert out.fraction == 0 and "missing column(s) ['id']" in text(out)


def test_keys_are_compared_even_outside_the_column_subset():
    assert grade(REF, keys=["id"], columns=["total"]).passed
    swapped = REF.assign(id=[3, 2, 1])
    assert not grade(swapped, keys=["id"], columns=["total"]).passed
