"""Reading a service's /metrics as Prometheus would, with prometheus-client's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """Samples of one scrape: ``value(name, **labels)`` sums the samples that have those labels."""

    def __init__(self, text: str) -> None:
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def values(self, name: str, **labels: str) -> list[float]:
        return [s.value for s in self.samples
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, name: str, **labels: str) -> float:
        return sum(self.values(name, **labels))

    def has(self, name: str, **labels: str) -> bool:
        return bool(self.values(name, **labels))


async def scrape(base_url: str) -> Scrape:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain"), response.text
    return Scrape(response.text)
