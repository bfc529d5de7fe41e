-- Revenue of delivered orders per cuisine and ISO week: what the marketing team asks for every Monday.
select
    r.cuisine,
    date_trunc('week', o.placed_at)::date as week,
    count(*)                              as orders,
    round(sum(o.total), 2)                as revenue
from {{ ref('stg_orders') }} as o
join {{ ref('stg_restaurants') }} as r using (restaurant_id)
where o.status = 'delivered'
group by all
