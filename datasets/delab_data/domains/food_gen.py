"""Row generation for the food-delivery domain (the tables are declared in :mod:`food`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..context import ChunkContext
from ..sampling import lognormal, person_names, take_strings
from ..scales import Scale
from .places import CityMap, period_bounds, start_days

CUISINES = (
    "american",
    "italian",
    "mexican",
    "chinese",
    "japanese",
    "indian",
    "thai",
    "mediterranean",
    "vegan",
    "burgers",
    "pizza",
    "korean",
)
_CUISINE_P = (0.13, 0.12, 0.11, 0.1, 0.08, 0.08, 0.06, 0.07, 0.04, 0.09, 0.08, 0.04)
_CUISINE_NOUNS = (
    ("Diner", "Grill", "Kitchen"),
    ("Trattoria", "Osteria", "Cucina"),
    ("Taqueria", "Cantina", "Cocina"),
    ("Wok", "Dumpling House", "Noodle Bar"),
    ("Sushi", "Ramen Bar", "Izakaya"),
    ("Tandoor", "Curry House", "Masala"),
    ("Thai Kitchen", "Noodle House", "Basil"),
    ("Mezze", "Taverna", "Grill"),
    ("Greens", "Plant Kitchen", "Bowl"),
    ("Burgers", "Burger Joint", "Smash House"),
    ("Pizza", "Pizzeria", "Slice"),
    ("BBQ", "Bibimbap", "Pocha"),
)
_NAME_WORDS = (
    "Golden",
    "Little",
    "Red",
    "Blue",
    "Old Town",
    "Happy",
    "Green",
    "Royal",
    "Urban",
    "Lucky",
    "Silver",
    "Hidden",
    "Corner",
    "Sunny",
    "Northside",
    "Family",
    "Midnight",
    "Garden",
)
VEHICLES = ("bike", "scooter", "car")
MENU_CATEGORIES = ("starter", "main", "side", "dessert", "drink")
#: Starters, sides, desserts and drinks are shared; mains follow CUISINES (same order).
_SHARED_DISHES = {
    0: ("Soup", "Salad", "Spring Rolls", "Wings", "Bruschetta", "Dumplings", "Nachos", "Hummus"),
    2: ("Fries", "Rice", "Naan", "Slaw", "Garlic Bread", "Edamame"),
    3: ("Brownie", "Cheesecake", "Mochi", "Tiramisu", "Churros", "Ice Cream"),
    4: ("Cola", "Lemonade", "Iced Tea", "Mango Lassi", "Sparkling Water", "Beer"),
}
_MAINS = (
    ("Cheeseburger", "BBQ Ribs", "Fried Chicken", "Mac and Cheese", "Club Sandwich", "Veggie Burger"),
    ("Margherita", "Lasagna", "Carbonara", "Mushroom Risotto", "Penne Arrabbiata", "Chicken Parmesan"),
    ("Tacos al Pastor", "Beef Burrito", "Chicken Quesadilla", "Enchiladas", "Bean Burrito", "Carnitas Bowl"),
    ("Kung Pao Chicken", "Fried Rice", "Sweet and Sour Pork", "Mapo Tofu", "Chow Mein", "Beef and Broccoli"),
    ("Salmon Sushi Set", "Tonkotsu Ramen", "Chicken Teriyaki", "Katsu Curry", "Vegetable Tempura", "Udon"),
    ("Butter Chicken", "Chana Masala", "Lamb Rogan Josh", "Palak Paneer", "Chicken Biryani", "Dal Makhani"),
    ("Pad Thai", "Green Curry", "Massaman Curry", "Pad See Ew", "Tofu Red Curry", "Basil Chicken"),
    ("Falafel Wrap", "Chicken Shawarma", "Lamb Kofta", "Halloumi Plate", "Mezze Platter", "Moussaka"),
    ("Buddha Bowl", "Tofu Stir-fry", "Lentil Curry", "Vegan Burger", "Quinoa Bowl", "Jackfruit Tacos"),
    ("Classic Burger", "Double Burger", "Bacon Burger", "Chicken Burger", "Veggie Burger", "Mushroom Burger"),
    ("Margherita", "Pepperoni Pizza", "Four Cheese Pizza", "Hawaiian Pizza", "Veggie Pizza", "Calzone"),
    ("Bibimbap", "Bulgogi", "Korean Fried Chicken", "Kimchi Fried Rice", "Japchae", "Tofu Jjigae"),
)  # fmt: skip
_VEGETARIAN = frozenset((
    "Soup", "Salad", "Spring Rolls", "Bruschetta", "Nachos", "Hummus", "Fries", "Rice", "Naan", "Slaw",
    "Garlic Bread", "Edamame", "Brownie", "Cheesecake", "Mochi", "Tiramisu", "Churros", "Ice Cream", "Cola",
    "Lemonade", "Iced Tea", "Mango Lassi", "Sparkling Water", "Beer", "Mac and Cheese", "Veggie Burger",
    "Margherita", "Mushroom Risotto", "Penne Arrabbiata", "Bean Burrito", "Vegetable Tempura", "Chana Masala",
    "Palak Paneer", "Dal Makhani", "Tofu Red Curry", "Falafel Wrap", "Halloumi Plate", "Mezze Platter",
    "Buddha Bowl", "Tofu Stir-fry", "Lentil Curry", "Vegan Burger", "Quinoa Bowl", "Jackfruit Tacos",
    "Mushroom Burger", "Four Cheese Pizza", "Veggie Pizza", "Tofu Jjigae",
))  # fmt: skip
_DISH_STYLES = ("Classic", "Spicy", "House", "Crispy", "Garlic", "Loaded", "Smoky", "Garden")
_CATEGORY_P = (0.2, 0.4, 0.15, 0.1, 0.15)
_CATEGORY_PRICE = (7.5, 14.0, 4.5, 6.5, 3.5)  # median price at price level 1
ORDER_STATUSES = ("delivered", "cancelled", "refunded")
PROMO_CODES = ("WELCOME10", "SAVE5", "FREEDEL", "SPRING15")
PRODUCT_CATEGORIES = (
    "produce",
    "dairy",
    "meat",
    "seafood",
    "bakery",
    "beverages",
    "pantry",
    "packaging",
    "cleaning",
)
PRODUCT_UNITS = ("kg", "l", "each", "pack", "case")


def n_customers(s: Scale) -> int:
    return max(400, s.orders // 8)


def n_restaurants(s: Scale) -> int:
    return max(60, s.orders // 400)


def n_couriers(s: Scale) -> int:
    return max(40, s.orders // 150)


def n_vendor_products(s: Scale) -> int:
    return int(np.clip(s.orders // 100, 2000, 6000))


# ---------------------------------------------------------------- dimensions
def make_dimensions(ctx: ChunkContext) -> dict[str, pa.Table]:
    """customers, restaurants (with their menus) and couriers, placed in the rides domain's cities."""
    cities = CityMap(ctx.table("cities"), ctx.table("zones"))
    restaurants = _restaurants(ctx, cities)
    return {
        "customers": _customers(ctx, cities),
        "restaurants": restaurants,
        "couriers": _couriers(ctx, cities),
        "menu_items": _menu_items(ctx, restaurants),
    }


def _customers(ctx: ChunkContext, cities: CityMap) -> pa.Table:
    rng = ctx.rng("customers")
    n = n_customers(ctx.scale)
    ids = np.arange(1, n + 1, dtype=np.int64)
    city = cities.draw_cities(rng, n)
    first, last = person_names(rng, n)
    email = pc.binary_join_element_wise(
        pc.utf8_lower(pc.utf8_slice_codeunits(first, 0, 1)),
        pc.utf8_lower(last),
        pa.array(ids.astype(str)),
        pa.scalar("@example.com"),
        "",
    )
    return pa.table(
        {
            "customer_id": ids,
            "first_name": first,
            "last_name": last,
            "email": email,
            "city": cities.names(city),
            "zone_id": cities.zone_id[cities.draw_zone_rows(rng, city, airports=False)],
            "signup_date": start_days(ctx, rng, city, 3, 0.2),
            "marketing_opt_in": rng.random(n) < 0.45,
        }
    )


def _restaurants(ctx: ChunkContext, cities: CityMap) -> pa.Table:
    rng = ctx.rng("restaurants")
    n = n_restaurants(ctx.scale)
    city = cities.draw_cities(rng, n)
    zone_row = cities.draw_zone_rows(rng, city, airports=True)
    cuisine = rng.choice(len(CUISINES), n, p=_CUISINE_P)
    nouns = np.array([w for ws in _CUISINE_NOUNS for w in ws], dtype=object)
    name = pc.binary_join_element_wise(
        take_strings(_NAME_WORDS, rng.integers(0, len(_NAME_WORDS), n)),
        pa.array(nouns[cuisine * 3 + rng.integers(0, 3, n)], pa.string()),
        " ",
    )
    opened = start_days(ctx, rng, city, 6, 0.12)
    return pa.table(
        {
            "restaurant_id": np.arange(1, n + 1, dtype=np.int64),
            "name": name,
            "cuisine": take_strings(CUISINES, cuisine),
            "city": cities.names(city),
            "zone_id": cities.zone_id[zone_row],
            "lat": np.round(cities.zone_lat[zone_row] + rng.normal(0, 0.006, n), 6),
            "lon": np.round(cities.zone_lon[zone_row] + rng.normal(0, 0.006, n), 6),
            "rating": np.round(np.clip(rng.normal(4.2, 0.4, n), 1.0, 5.0), 1),
            "price_level": rng.choice(4, n, p=(0.3, 0.4, 0.2, 0.1)).astype(np.int32) + 1,
            "opened_date": opened,
            "updated_at": _updated_at(rng, ctx, opened),
        }
    )


def _updated_at(rng: np.random.Generator, ctx: ChunkContext, start: np.ndarray) -> np.ndarray:
    """Last-change times in the period, never before the row existed; about half never changed.

    A row that never changed keeps the time it was loaded: the period's first instant for rows older
    than the period, a time on its start day otherwise (see the CDC domain, which replays these).
    """
    p0, p_end = (np.datetime64(b, "ms") for b in period_bounds(ctx))
    created = np.maximum(start.astype("datetime64[ms]"), p0)
    fresh = start >= p0.astype("datetime64[D]")
    created = created + np.where(fresh, rng.integers(8 * 3_600_000, 20 * 3_600_000, len(start)), 0).astype(
        "timedelta64[ms]"
    )
    room = (p_end - created).astype(np.int64)
    changed = rng.random(len(start)) < 0.5
    later = created + (rng.random(len(start)) * room).astype(np.int64).astype("timedelta64[ms]")
    return np.where(changed, later, created)


def _couriers(ctx: ChunkContext, cities: CityMap) -> pa.Table:
    rng = ctx.rng("couriers")
    n = n_couriers(ctx.scale)
    city = cities.draw_cities(rng, n)
    first, last = person_names(rng, n)
    return pa.table(
        {
            "courier_id": np.arange(1, n + 1, dtype=np.int64),
            "first_name": first,
            "last_name": last,
            "city": cities.names(city),
            "vehicle": take_strings(VEHICLES, rng.choice(3, n, p=(0.45, 0.35, 0.2))),
            "joined_date": start_days(ctx, rng, city, 2, 0.25),
        }
    )


def _menu_items(ctx: ChunkContext, restaurants: pa.Table) -> pa.Table:
    """Each restaurant's menu: mains of its cuisine plus shared starters, sides, desserts and drinks."""
    rng = ctx.rng("menu_items")
    rid = restaurants["restaurant_id"].to_numpy()
    owner = np.repeat(np.arange(len(rid)), 6 + rng.poisson(12, len(rid)))
    n = len(owner)
    cat = rng.choice(len(MENU_CATEGORIES), n, p=_CATEGORY_P)
    cuisine = pc.index_in(restaurants["cuisine"], pa.array(CUISINES)).to_numpy()[owner]
    groups = [
        _SHARED_DISHES.get(c) or _MAINS[k] for c in range(len(MENU_CATEGORIES)) for k in range(len(CUISINES))
    ]
    book = np.array([d for g in groups for d in g], dtype=object)
    sizes = np.array([len(g) for g in groups])
    group = cat * len(CUISINES) + cuisine
    dish = (np.cumsum(sizes) - sizes)[group] + (rng.random(n) * sizes[group]).astype(np.int64)
    level = restaurants["price_level"].to_numpy()[owner]
    price = lognormal(rng, 1.0, 0.25, n) * np.array(_CATEGORY_PRICE)[cat] * (0.75 + 0.25 * level)
    styled = ((cat == 0) | (cat == 2)) & (rng.random(n) < 0.6)  # "Crispy Wings", "Garlic Rice"
    style = take_strings(_DISH_STYLES, rng.integers(0, len(_DISH_STYLES), n))
    name = pa.array(book[dish], pa.string())
    return pa.table({
        "menu_item_id": np.arange(1, n + 1, dtype=np.int64),
        "restaurant_id": rid[owner],
        "name": pc.if_else(pa.array(styled), pc.binary_join_element_wise(style, name, " "), name),
        "category": take_strings(MENU_CATEGORIES, cat),
        "price": np.round(np.floor(price) + 0.49 + 0.5 * (rng.random(n) < 0.5), 2),
        "is_vegetarian": np.isin(book[dish], list(_VEGETARIAN)) | (cuisine == CUISINES.index("vegan")),
    })  # fmt: skip


# ---------------------------------------------------------------- vendor catalogue
_BRANDS = (
    "Acme",
    "FreshCo",
    "Harvest",
    "Prime",
    "BlueLeaf",
    "Sunvale",
    "Northstar",
    "Golden Fields",
    "EcoPack",
    "Kitchen Pro",
    "Ocean Catch",
    "Dairy Best",
)
_PRODUCT_NOUNS = (
    ("Tomatoes", "Onions", "Lettuce", "Avocados", "Limes"),
    ("Milk", "Mozzarella", "Butter", "Cream", "Yogurt"),
    ("Chicken Thighs", "Ground Beef", "Pork Belly", "Bacon"),
    ("Salmon Fillet", "Shrimp", "Tuna Loin"),
    ("Burger Buns", "Tortillas", "Sourdough", "Pita"),
    ("Cola Syrup", "Orange Juice", "Sparkling Water"),
    ("Rice", "Flour", "Olive Oil", "Soy Sauce", "Sugar", "Chickpeas"),
    ("Takeaway Boxes", "Paper Bags", "Cups", "Cutlery Kits"),
    ("Degreaser", "Dish Soap", "Sanitiser"),
)
_PRODUCT_PRICE = (2.5, 4.0, 9.0, 15.0, 3.0, 6.0, 5.0, 12.0, 8.0)
_PRODUCT_ADJ = ("Organic", "Premium", "Value", "Bulk", "Fresh", "Select", "Everyday", "Chef's")


def make_vendor_products(ctx: ChunkContext) -> dict[str, pa.Table]:
    """The supplier catalogue; a quarter of the products changed in the last month of the period."""
    rng = ctx.rng("vendor_products")
    n = ctx.count
    ids = np.arange(ctx.start + 1, ctx.start + n + 1, dtype=np.int64)
    cat = rng.integers(0, len(PRODUCT_CATEGORIES), n)
    nouns = [w for ws in _PRODUCT_NOUNS for w in ws]
    offset = np.cumsum([0] + [len(ws) for ws in _PRODUCT_NOUNS])[:-1]
    noun = offset[cat] + (rng.random(n) * np.array([len(ws) for ws in _PRODUCT_NOUNS])[cat]).astype(np.int64)
    p0, p_end = (np.datetime64(b, "ms") for b in period_bounds(ctx))
    late = rng.random(n) < 0.25
    lo = np.where(late, p_end - np.timedelta64(30, "D"), p0 - np.timedelta64(60, "D"))
    hi = np.where(late, p_end, p_end - np.timedelta64(30, "D"))
    updated = lo + (rng.random(n) * (hi - lo).astype(np.int64)).astype(np.int64).astype("timedelta64[ms]")
    return {
        "vendor_products": pa.table(
            {
                "product_id": ids,
                "sku": pc.binary_join_element_wise(
                    "SKU-", pc.utf8_lpad(pa.array(ids.astype(str)), 6, "0"), ""
                ),
                "name": pc.binary_join_element_wise(
                    take_strings(_PRODUCT_ADJ, rng.integers(0, len(_PRODUCT_ADJ), n)),
                    take_strings(nouns, noun),
                    " ",
                ),
                "category": take_strings(PRODUCT_CATEGORIES, cat),
                "brand": take_strings(_BRANDS, rng.integers(0, len(_BRANDS), n)),
                "unit": take_strings(PRODUCT_UNITS, rng.integers(0, len(PRODUCT_UNITS), n)),
                "unit_price": np.round(lognormal(rng, 1.0, 0.5, n) * np.array(_PRODUCT_PRICE)[cat], 2),
                "currency": take_strings(("USD",), np.zeros(n, dtype=np.int64)),
                "updated_at": updated,
                "is_active": rng.random(n) < 0.93,
            }
        )
    }
