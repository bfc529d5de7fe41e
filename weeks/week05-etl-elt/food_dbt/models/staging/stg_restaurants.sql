select
    cast(restaurant_id as bigint) as restaurant_id,
    name                          as restaurant_name,
    cuisine,
    city
from {{ source('raw', 'restaurants') }}
