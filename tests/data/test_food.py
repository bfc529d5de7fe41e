"""The food-delivery domain: schemas, keys, life cycles, money and the shape of demand."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import assert_conforms, assert_references, make_ctx, run_producers
from delab_data.schema import PRODUCERS, TABLES

FOOD_TABLES = (
    "customers", "restaurants", "couriers", "menu_items", "orders", "order_items", "vendor_products",
)  # fmt: skip


@pytest.fixture(scope="module")
def food(tiny_tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return tiny_tables


def col(t: pa.Table, name: str) -> np.ndarray:
    return t[name].to_numpy(zero_copy_only=False)


@pytest.mark.parametrize("name", FOOD_TABLES)
def test_tables_conform_to_their_declaration(food: dict[str, pa.Table], name: str) -> None:
    assert_conforms(TABLES[name], food[name])


def test_sizes_follow_the_scale(food: dict[str, pa.Table]) -> None:
    assert food["orders"].num_rows == 5_000
    assert 1.5 < food["order_items"].num_rows / food["orders"].num_rows < 3
    assert food["restaurants"].num_rows >= 60
    assert 2_000 <= food["vendor_products"].num_rows <= 6_000


def test_foreign_keys(food: dict[str, pa.Table]) -> None:
    for name in ("customers", "restaurants", "couriers", "menu_items", "orders", "order_items"):
        assert_references(TABLES[name], food)


def test_places_are_consistent(food: dict[str, pa.Table]) -> None:
    zones = food["zones"]
    zone_city = dict(zip(col(zones, "zone_id"), col(zones, "city"), strict=True))
    for name in ("customers", "restaurants"):
        t = food[name]
        assert all(zone_city[z] == c for z, c in zip(col(t, "zone_id"), col(t, "city"), strict=True)), name
    airports = set(col(zones, "zone_id")[col(zones, "is_airport")])
    assert not airports & set(col(food["customers"], "zone_id"))
    orders = food["orders"]
    keys = (("restaurants", "restaurant_id"), ("customers", "customer_id"), ("couriers", "courier_id"))
    rest_city, cust_city, cour_city = (
        dict(zip(col(food[t], key), col(food[t], "city"), strict=True)) for t, key in keys
    )
    for o in orders.slice(0, 2_000).to_pylist():
        assert o["city"] == rest_city[o["restaurant_id"]] == cust_city[o["customer_id"]]
        assert o["courier_id"] is None or cour_city[o["courier_id"]] == o["city"]


def test_nobody_acts_before_they_exist(food: dict[str, pa.Table]) -> None:
    orders = food["orders"]
    day = col(orders, "placed_at").astype("datetime64[D]")
    for dim, key, start in (("customers", "customer_id", "signup_date"),
                            ("restaurants", "restaurant_id", "opened_date")):  # fmt: skip
        t = food[dim]
        started = col(t, start)[np.searchsorted(col(t, key), col(orders, key))]
        assert (started <= day).all(), dim
    couriers = food["couriers"]
    has = ~np.isnan(orders["courier_id"].to_numpy(zero_copy_only=False))
    cid = col(orders, "courier_id")[has].astype(np.int64)
    joined = col(couriers, "joined_date")[np.searchsorted(col(couriers, "courier_id"), cid)]
    assert (joined <= day[has]).all()


def test_life_cycle_timestamps_are_ordered_and_match_status(food: dict[str, pa.Table]) -> None:
    o = food["orders"]
    steps = ("placed_at", "accepted_at", "picked_up_at", "delivered_at")
    for a, b in itertools.pairwise(steps):
        assert pc.all(pc.less_equal(o[a], o[b])).as_py() in (True, None), (a, b)
    status = col(o, "status")
    done = status != "cancelled"
    assert o.filter(pa.array(done))["delivered_at"].null_count == 0
    cancelled = o.filter(pa.array(~done))
    assert cancelled["delivered_at"].null_count == cancelled.num_rows
    assert 0 < cancelled["courier_id"].null_count < cancelled.num_rows  # before and after acceptance
    assert (pc.is_null(o["courier_id"]).to_numpy(zero_copy_only=False)
            == pc.is_null(o["accepted_at"]).to_numpy(zero_copy_only=False)).all()  # fmt: skip
    minutes = (col(o, "delivered_at")[done] - col(o, "placed_at")[done]).astype(np.int64) / 60_000
    assert 15 < np.median(minutes) < 60


def test_slow_deliveries_are_refunded_more_often(food: dict[str, pa.Table]) -> None:
    o = food["orders"].filter(pc.field("status") != "cancelled")
    minutes = (col(o, "delivered_at") - col(o, "placed_at")).astype(np.int64) / 60_000
    refunded = col(o, "status") == "refunded"
    assert refunded[minutes > 50].mean() > 3 * refunded[minutes <= 50].mean()


def test_money_adds_up(food: dict[str, pa.Table]) -> None:
    o, items = food["orders"], food["order_items"]
    q, price, line = (col(items, c) for c in ("quantity", "unit_price", "line_total"))
    assert np.allclose(q * price, line, atol=0.005)
    pos = np.searchsorted(col(o, "order_id"), col(items, "order_id"))
    sums = np.bincount(pos, weights=line, minlength=o.num_rows)
    assert np.allclose(sums, col(o, "subtotal"), atol=0.005)
    parts = col(o, "subtotal") + col(o, "delivery_fee") + col(o, "tip") - col(o, "discount")
    assert np.allclose(parts, col(o, "total"), atol=0.005)
    for money in ("subtotal", "delivery_fee", "tip", "discount", "total"):
        v = col(o, money)
        assert (v >= 0).all() and np.allclose(v, np.round(v, 2)), money
    promo = pc.is_valid(o["promo_code"]).to_numpy(zero_copy_only=False)
    assert (col(o, "discount")[~promo] == 0).all() and (col(o, "discount")[promo] > 0).all()


def test_order_items_come_from_the_order_s_restaurant(food: dict[str, pa.Table]) -> None:
    o, items, menu = food["orders"], food["order_items"], food["menu_items"]
    rest_of_order = col(o, "restaurant_id")[np.searchsorted(col(o, "order_id"), col(items, "order_id"))]
    item = np.searchsorted(col(menu, "menu_item_id"), col(items, "menu_item_id"))
    assert (rest_of_order == col(menu, "restaurant_id")[item]).all()
    price = col(menu, "price")[item]
    assert np.allclose(price, col(items, "unit_price"))
    assert (col(items, "order_item_id") == col(items, "order_id") * 10 + col(items, "line_number")).all()


def test_meal_time_peaks_and_busier_weekends(food: dict[str, pa.Table]) -> None:
    placed = col(food["orders"], "placed_at")
    hour = (placed.astype(np.int64) // 3_600_000) % 24
    by_hour = np.bincount(hour, minlength=24)
    assert by_hour[12] > 3 * by_hour[16] and by_hour[19] > 3 * by_hour[16]
    assert by_hour[19] > by_hour[12] > 5 * by_hour[3]
    weekday = (placed.astype("datetime64[D]").astype(np.int64) + 3) % 7
    per_day = np.bincount(weekday, minlength=7) / 13  # 13 of each weekday in 91 days
    assert per_day[5] > 1.2 * per_day[1]


def test_restaurant_popularity_is_skewed(food: dict[str, pa.Table]) -> None:
    counts = np.sort(np.bincount(col(food["orders"], "restaurant_id")))[::-1]
    assert counts[: len(counts) // 10].sum() > 0.3 * counts.sum()


def test_order_ids_grow_with_time(food: dict[str, pa.Table]) -> None:
    o = food["orders"]
    assert (np.diff(col(o, "order_id")) == 1).all()
    assert (np.diff(col(o, "placed_at").astype(np.int64)) >= 0).all()


def test_vendor_catalogue_has_late_updates(food: dict[str, pa.Table]) -> None:
    v = food["vendor_products"]
    assert len(set(col(v, "sku"))) == v.num_rows
    end = np.datetime64("2025-01-06") + np.timedelta64(91, "D")
    updated = col(v, "updated_at")
    late = updated >= end - np.timedelta64(14, "D")
    assert 0.05 < late.mean() < 0.3 and (updated < end).all()


@pytest.mark.parametrize("name", ["food_dimensions", "food_orders", "vendor_products"])
def test_same_context_same_rows(food: dict[str, pa.Table], name: str) -> None:
    ctx = make_ctx(name, tables=food)
    first, second = PRODUCERS[name].make(ctx), PRODUCERS[name].make(ctx)
    assert all(first[t].equals(second[t]) for t in first)


def test_chunks_do_not_depend_on_each_other() -> None:
    """Orders made in two chunks equal the same chunks made in reverse order, and ids follow on."""
    scale = "orders=400000,trips=10000,viewing_events=20000"
    from delab_data.scales import parse_scale

    s = parse_scale(scale)
    dims = run_producers(s, names=["food_dimensions"])
    prod = PRODUCERS["food_orders"]
    forward = [prod.make(make_ctx(prod, s, chunk=c, tables=dims))["orders"] for c in (0, 1)]
    backward = prod.make(make_ctx(prod, s, chunk=1, tables=dims))["orders"]
    assert backward.equals(forward[1])
    assert col(forward[1], "order_id")[0] == col(forward[0], "order_id")[-1] + 1
    assert col(forward[1], "placed_at")[0] >= col(forward[0], "placed_at")[-1]
