"""Row generation for food orders and their lines (the tables are declared in :mod:`food`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..context import ChunkContext
from ..sampling import StartedChoice, lognormal, profile_times, take_strings, zipf_weights
from .food_gen import ORDER_STATUSES, PROMO_CODES
from .places import shared_rng, to_days

#: Orders by hour of day: quiet nights, a lunch peak (11:30–13:30) and a bigger dinner peak (18–21).
_HOURS = (3, 2, 1, 1, 1, 1, 2, 4, 6, 6, 8, 30, 60, 45, 14, 10, 12, 25, 60, 85, 80, 45, 20, 8)
#: Monday…Sunday: Friday and the weekend are busier.
_WEEKDAY = (1.0, 0.95, 1.0, 1.05, 1.3, 1.45, 1.3)
MEAL_PROFILE = np.outer(_WEEKDAY, _HOURS).astype(np.float64)
_MAX_LINES = 6
_LINES_P = (0.35, 0.3, 0.18, 0.1, 0.05, 0.02)
_SPRING_DAY = 54  # first day (from the period start) of the SPRING15 promotion
DELIVERED, CANCELLED, REFUNDED = (ORDER_STATUSES.index(s) for s in ("delivered", "cancelled", "refunded"))
WELCOME10, SAVE5, FREEDEL, SPRING15 = range(len(PROMO_CODES))


@dataclass
class _Dims:
    """The food dimensions as arrays, with the pools orders draw from."""

    restaurant_id: np.ndarray
    restaurant_city: np.ndarray
    city_names: list[str]
    restaurants: StartedChoice
    customers: StartedChoice
    customer_id: np.ndarray
    couriers: StartedChoice
    courier_id: np.ndarray
    menu_lo: np.ndarray
    menu_n: np.ndarray
    menu_id: np.ndarray
    menu_price_c: np.ndarray


def _dims(ctx: ChunkContext) -> _Dims:
    rest, cust, cour, menu = (ctx.table(t) for t in ("restaurants", "customers", "couriers", "menu_items"))
    names = sorted(
        set(rest["city"].to_pylist()) | set(cust["city"].to_pylist()) | set(cour["city"].to_pylist())
    )
    lookup = pa.array(names, pa.string())

    def code(t: pa.Table) -> np.ndarray:
        return pc.index_in(t["city"], lookup).to_numpy()

    rng = shared_rng(ctx, "food/popularity")
    n_rest, n_cust = rest.num_rows, cust.num_rows
    rest_city = code(rest)
    menu_rest = menu["restaurant_id"].to_numpy()
    rest_id = rest["restaurant_id"].to_numpy()
    row_of = np.searchsorted(rest_id, menu_rest)  # restaurants are sorted by id; menus grouped by restaurant
    return _Dims(
        restaurant_id=rest_id,
        restaurant_city=rest_city,
        city_names=names,
        restaurants=StartedChoice(
            np.zeros(n_rest), to_days(rest["opened_date"].to_numpy(), ctx), zipf_weights(rng, n_rest, 1.0)
        ),
        customers=StartedChoice(
            code(cust), to_days(cust["signup_date"].to_numpy(), ctx), lognormal(rng, 1.0, 1.0, n_cust)
        ),
        customer_id=cust["customer_id"].to_numpy(),
        couriers=StartedChoice(
            code(cour), to_days(cour["joined_date"].to_numpy(), ctx), lognormal(rng, 1.0, 0.5, cour.num_rows)
        ),
        courier_id=cour["courier_id"].to_numpy(),
        menu_lo=np.searchsorted(row_of, np.arange(n_rest), side="left"),
        menu_n=np.bincount(row_of, minlength=n_rest),
        menu_id=menu["menu_item_id"].to_numpy(),
        menu_price_c=np.round(menu["price"].to_numpy() * 100).astype(np.int64),
    )


def make_orders(ctx: ChunkContext) -> dict[str, pa.Table]:
    """One chunk of orders (ids start+1…start+count, in placed_at order) and all their lines."""
    rng = ctx.rng("orders")
    dims = _dims(ctx)
    n = ctx.count
    order_id = np.arange(ctx.start + 1, ctx.start + n + 1, dtype=np.int64)
    placed = profile_times(rng, *ctx.time_slice(), n, MEAL_PROFILE)
    day = to_days(placed, ctx)
    rest = dims.restaurants.draw(rng, np.zeros(n, dtype=np.int64), day)
    city = dims.restaurant_city[rest]
    customer = dims.customer_id[dims.customers.draw(rng, city, day)]
    courier = dims.courier_id[dims.couriers.draw(rng, city, day)]
    items, subtotal_c = _lines(rng, dims, order_id, rest)
    times, status = _lifecycle(rng, placed)
    money = _money(rng, subtotal_c, status, day)
    orders = pa.table(
        {
            "order_id": order_id,
            "customer_id": customer,
            "restaurant_id": dims.restaurant_id[rest],
            "courier_id": pa.array(courier, mask=np.isnat(times["accepted_at"])),
            "city": take_strings(dims.city_names, city),
            **{k: pa.array(v, pa.timestamp("ms"), mask=np.isnat(v)) for k, v in times.items()},
            "status": take_strings(ORDER_STATUSES, status),
            **money,
        }
    )
    return {"orders": orders, "order_items": items}


def _lines(
    rng: np.random.Generator, dims: _Dims, order_id: np.ndarray, rest: np.ndarray
) -> tuple[pa.Table, np.ndarray]:
    """The lines of every order (dishes of the order's restaurant, popular dishes first) and subtotals."""
    n_lines = rng.choice(_MAX_LINES, len(order_id), p=_LINES_P) + 1
    owner = np.repeat(np.arange(len(order_id)), n_lines)
    line_no = np.arange(len(owner)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    r = rest[owner]
    pick = dims.menu_lo[r] + (rng.random(len(owner)) ** 1.6 * dims.menu_n[r]).astype(np.int64)
    qty = rng.choice(3, len(owner), p=(0.78, 0.17, 0.05)) + 1
    price_c = dims.menu_price_c[pick]
    line_c = qty * price_c
    items = pa.table(
        {
            "order_item_id": order_id[owner] * 10 + line_no,
            "order_id": order_id[owner],
            "line_number": line_no.astype(np.int32),
            "menu_item_id": dims.menu_id[pick],
            "quantity": qty.astype(np.int32),
            "unit_price": price_c / 100,
            "line_total": line_c / 100,
        }
    )
    return items, np.bincount(owner, weights=line_c, minlength=len(order_id)).astype(np.int64)


def _lifecycle(rng: np.random.Generator, placed: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Accepted/picked-up/delivered times (NaT when the order never got there) and the final status.

    7% are cancelled (about half before the restaurant accepted); slow deliveries are refunded more.
    """
    n = len(placed)
    ms = "timedelta64[ms]"
    accepted = placed + (lognormal(rng, 90_000, 0.6, n)).astype(np.int64).astype(ms)
    picked = accepted + (lognormal(rng, 14 * 60_000, 0.4, n)).astype(np.int64).astype(ms)
    delivered = picked + (lognormal(rng, 13 * 60_000, 0.45, n)).astype(np.int64).astype(ms)
    cancelled = rng.random(n) < 0.07
    early = cancelled & (rng.random(n) < 0.55)
    slow = (delivered - placed) > np.timedelta64(50, "m")
    refunded = ~cancelled & (rng.random(n) < np.where(slow, 0.15, 0.02))
    nat = np.datetime64("NaT", "ms")
    times = {
        "placed_at": placed,
        "accepted_at": np.where(early, nat, accepted),
        "picked_up_at": np.where(cancelled, nat, picked),
        "delivered_at": np.where(cancelled, nat, delivered),
    }
    return times, np.select([cancelled, refunded], [CANCELLED, REFUNDED], DELIVERED)


def _money(
    rng: np.random.Generator, subtotal_c: np.ndarray, status: np.ndarray, day: np.ndarray
) -> dict[str, pa.Array]:
    """Fees, tips and promotions in whole cents, so total = subtotal + fee + tip − discount exactly."""
    n = len(subtotal_c)
    fee_c = rng.choice(np.array([99, 199, 299, 399, 499]), n, p=(0.15, 0.3, 0.3, 0.15, 0.1))
    fee_c = fee_c + np.where(subtotal_c < 1500, 200, 0)  # small-order fee
    tips = np.where(
        rng.random(n) < 0.5,
        subtotal_c * rng.uniform(0.08, 0.2, n),
        rng.choice(np.array([100, 200, 300, 500]), n),
    )
    tip_c = np.where((status != CANCELLED) & (rng.random(n) < 0.75), np.round(tips), 0).astype(np.int64)
    spring = day >= _SPRING_DAY
    promo = np.where(rng.random(n) < 0.12, rng.integers(0, len(PROMO_CODES), n), -1)
    promo = np.where((promo == SPRING15) & ~spring, WELCOME10, promo)  # SPRING15 runs from the 8th week on
    pct = np.select([promo == WELCOME10, promo == SPRING15], [0.10, 0.15], 0.0)
    discount_c = np.round(subtotal_c * pct).astype(np.int64)
    discount_c = np.where(promo == SAVE5, np.minimum(500, subtotal_c), discount_c)
    discount_c = np.where(promo == FREEDEL, fee_c, discount_c)
    total_c = subtotal_c + fee_c + tip_c - discount_c
    return {
        "subtotal": pa.array(subtotal_c / 100),
        "delivery_fee": pa.array(fee_c / 100),
        "tip": pa.array(tip_c / 100),
        "promo_code": pa.array(np.array(PROMO_CODES, dtype=object)[promo], pa.string(), mask=promo < 0),
        "discount": pa.array(discount_c / 100),
        "total": pa.array(total_c / 100),
    }
