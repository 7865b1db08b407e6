"""`python -m bench`: every benchmark, one after the other (today: GET /v1/orders/{id})."""

from bench import orders_get

if __name__ == "__main__":
    orders_get.main()
