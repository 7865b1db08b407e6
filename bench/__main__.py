"""`python -m bench`: every benchmark, one after the other (GET /v1/orders/{id}, then POST /v1/orders)."""

from bench import orders_create, orders_get

if __name__ == "__main__":
    orders_get.main([])
    orders_create.main([])
