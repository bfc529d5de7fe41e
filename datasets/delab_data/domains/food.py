"""Food delivery: customers order dishes from restaurants; couriers bring them (tables and producers).

The rows are made in :mod:`food_gen`; this module only declares what the tables look like.
"""

from __future__ import annotations

import pyarrow as pa

from ..schema import Column, DirtySpec, Producer, producer, table
from . import food_gen as gen
from . import food_orders
from .rides import CITY_SPELLINGS

D = "food"
MONEY = "USD"

customers = table(
    "customers",
    D,
    doc="People who ordered food through the app, with their home city and neighbourhood.",
    grain="one row per customer account",
    columns=[
        Column("customer_id", pa.int64(), "Customer key.", primary_key=True),
        Column("first_name", pa.string(), "Given name."),
        Column("last_name", pa.string(), "Family name."),
        Column("email", pa.string(), "Contact e-mail address (synthetic, unique)."),
        Column("city", pa.string(), "Home city.", references="cities.city"),
        Column("zone_id", pa.int64(), "Home delivery zone, inside `city`.", references="zones.zone_id"),
        Column("signup_date", pa.date32(), "Day the account was created (before or during the period)."),
        Column("marketing_opt_in", pa.bool_(), "Whether the customer accepts promotional e-mails."),
    ],
)

restaurants = table(
    "restaurants",
    D,
    doc="Restaurants on the platform as they stand at the end of the period; a few are very popular.",
    grain="one row per restaurant (current version)",
    columns=[
        Column("restaurant_id", pa.int64(), "Restaurant key.", primary_key=True),
        Column("name", pa.string(), "Trading name."),
        Column("cuisine", pa.string(), "Main cuisine.", values=gen.CUISINES),
        Column("city", pa.string(), "City the restaurant is in.", references="cities.city"),
        Column(
            "zone_id", pa.int64(), "Zone the restaurant is in, inside `city`.", references="zones.zone_id"
        ),
        Column("lat", pa.float64(), "Latitude of the kitchen.", unit="degrees"),
        Column("lon", pa.float64(), "Longitude of the kitchen.", unit="degrees"),
        Column("rating", pa.float64(), "Average customer rating, 1.0–5.0 (one decimal)."),
        Column("price_level", pa.int32(), "Price band from 1 (cheap) to 4 (expensive)."),
        Column("opened_date", pa.date32(), "Day the restaurant joined the platform."),
        Column(
            "updated_at", pa.timestamp("ms"), "Time of the last change to this row (see restaurants_cdc)."
        ),
    ],
)

couriers = table(
    "couriers",
    D,
    doc="Couriers who pick up and deliver orders.",
    grain="one row per courier",
    columns=[
        Column("courier_id", pa.int64(), "Courier key.", primary_key=True),
        Column("first_name", pa.string(), "Given name."),
        Column("last_name", pa.string(), "Family name."),
        Column("city", pa.string(), "City the courier works in.", references="cities.city"),
        Column("vehicle", pa.string(), "How the courier travels.", values=gen.VEHICLES),
        Column("joined_date", pa.date32(), "Day the courier started (deliveries happen on or after it)."),
    ],
)

menu_items = table(
    "menu_items",
    D,
    doc="Dishes and drinks each restaurant sells, with their current price.",
    grain="one row per dish of one restaurant's menu",
    columns=[
        Column("menu_item_id", pa.int64(), "Menu item key.", primary_key=True),
        Column(
            "restaurant_id", pa.int64(), "Restaurant that sells it.", references="restaurants.restaurant_id"
        ),
        Column("name", pa.string(), "Dish name as shown in the app."),
        Column("category", pa.string(), "Menu section.", values=gen.MENU_CATEGORIES),
        Column("price", pa.float64(), "Price of one portion.", unit=MONEY),
        Column("is_vegetarian", pa.bool_(), "True when the dish contains no meat or fish."),
    ],
)

orders = table(
    "orders",
    D,
    doc=(
        "Food orders with their life-cycle timestamps and money. Lunch and dinner peaks, busier weekends; "
        "total = subtotal + delivery_fee + tip − discount, and subtotal is the sum of the order's items."
    ),
    grain="one row per order",
    formats=("parquet", "csv"),
    columns=[
        Column("order_id", pa.int64(), "Order key; grows with placed_at.", primary_key=True),
        Column("customer_id", pa.int64(), "Who ordered.", references="customers.customer_id"),
        Column("restaurant_id", pa.int64(), "Where from.", references="restaurants.restaurant_id"),
        Column(
            "courier_id",
            pa.int64(),
            "Who delivered; null when cancelled before a courier was assigned.",
            nullable=True,
            references="couriers.courier_id",
        ),
        Column("city", pa.string(), "City of the restaurant (and the customer).", references="cities.city"),
        Column("placed_at", pa.timestamp("ms"), "When the customer placed the order (local time)."),
        Column(
            "accepted_at",
            pa.timestamp("ms"),
            "When the restaurant accepted it; null if cancelled before.",
            nullable=True,
        ),
        Column(
            "picked_up_at", pa.timestamp("ms"), "When the courier collected it; null if never.", nullable=True
        ),
        Column(
            "delivered_at", pa.timestamp("ms"), "When it reached the customer; null if never.", nullable=True
        ),
        Column(
            "status",
            pa.string(),
            "Final state; refunded orders were delivered, then paid back.",
            values=gen.ORDER_STATUSES,
        ),
        Column("subtotal", pa.float64(), "Sum of the order's line totals.", unit=MONEY),
        Column(
            "delivery_fee",
            pa.float64(),
            "Delivery charge, with a 2.00 small-order fee under 15.00.",
            unit=MONEY,
        ),
        Column("tip", pa.float64(), "Tip for the courier (0 when none).", unit=MONEY),
        Column("promo_code", pa.string(), "Promotion used, if any.", nullable=True, values=gen.PROMO_CODES),
        Column(
            "discount",
            pa.float64(),
            "Money taken off by the promotion (FREEDEL: the delivery fee; SPRING15 from early March).",
            unit=MONEY,
        ),
        Column(
            "total", pa.float64(), "Amount charged: subtotal + delivery_fee + tip − discount.", unit=MONEY
        ),
    ],
    dirty=DirtySpec(
        nullable=("customer_id", "city", "tip", "delivery_fee", "subtotal"),
        non_negative=("subtotal", "delivery_fee", "tip", "total"),
        interval=("placed_at", "delivered_at"),
        timestamps=("placed_at", "accepted_at", "picked_up_at", "delivered_at"),
        spelling={"city": CITY_SPELLINGS},
        key="order_id",
    ),
)

order_items = table(
    "order_items",
    D,
    doc="The lines of each order: which dish, how many, at what price.",
    grain="one row per line of an order",
    columns=[
        Column("order_item_id", pa.int64(), "Line key: order_id × 10 + line_number.", primary_key=True),
        Column("order_id", pa.int64(), "Order the line belongs to.", references="orders.order_id"),
        Column("line_number", pa.int32(), "Position of the line in the order, from 1."),
        Column(
            "menu_item_id",
            pa.int64(),
            "Dish ordered (always from the order's restaurant).",
            references="menu_items.menu_item_id",
        ),
        Column("quantity", pa.int32(), "Number of portions."),
        Column("unit_price", pa.float64(), "Price of one portion when ordered.", unit=MONEY),
        Column("line_total", pa.float64(), "quantity × unit_price.", unit=MONEY),
    ],
)

vendor_products = table(
    "vendor_products",
    D,
    doc=(
        "The catalogue of a supplier that sells groceries and packaging to restaurants (served by a local "
        "REST API in the ingestion week); some products change late in the period, for incremental loads."
    ),
    grain="one row per product (latest version)",
    formats=("parquet", "jsonl"),
    columns=[
        Column("product_id", pa.int64(), "Product key.", primary_key=True),
        Column("sku", pa.string(), "Supplier stock-keeping unit, e.g. 'SKU-000123'."),
        Column("name", pa.string(), "Product name."),
        Column("category", pa.string(), "Product family.", values=gen.PRODUCT_CATEGORIES),
        Column("brand", pa.string(), "Brand name."),
        Column("unit", pa.string(), "What one unit of sale is.", values=gen.PRODUCT_UNITS),
        Column("unit_price", pa.float64(), "Price of one unit.", unit=MONEY),
        Column("currency", pa.string(), "Currency of unit_price.", values=(MONEY,)),
        Column("updated_at", pa.timestamp("ms"), "Time of the last change to the product."),
        Column("is_active", pa.bool_(), "False when the product is discontinued."),
    ],
)

producer(
    Producer(
        "food_dimensions",
        ("customers", "restaurants", "couriers", "menu_items"),
        units=lambda s: 1,
        make=gen.make_dimensions,
        chunk_units=1,
        needs=("cities", "zones"),
    )
)
producer(
    Producer(
        "food_orders",
        ("orders", "order_items"),
        units=lambda s: s.orders,
        make=food_orders.make_orders,
        chunk_units=250_000,
        needs=("customers", "restaurants", "couriers", "menu_items"),
    )
)
producer(
    Producer(
        "vendor_products",
        ("vendor_products",),
        units=lambda s: gen.n_vendor_products(s),
        make=gen.make_vendor_products,
        chunk_units=1_000_000,
    )
)
