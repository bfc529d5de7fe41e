-- One typed row per order: the most recent version wins (latest batch, then latest line),
-- timestamps in other formats become NULL, and rows without a valid order time are dropped.
with latest as (
    select *
    from {{ source('raw', 'orders') }}
    qualify row_number() over (partition by order_id order by _batch desc, _row desc) = 1
)

select
    cast(order_id as bigint)                                as order_id,
    cast(customer_id as bigint)                             as customer_id,
    cast(restaurant_id as bigint)                           as restaurant_id,
    status,
    try_strptime(placed_at, '%Y-%m-%d %H:%M:%S')            as placed_at,
    try_strptime(delivered_at, '%Y-%m-%d %H:%M:%S')         as delivered_at,
    cast(subtotal as double)                                as subtotal,
    cast(total as double)                                   as total
from latest
where try_strptime(placed_at, '%Y-%m-%d %H:%M:%S') is not null
