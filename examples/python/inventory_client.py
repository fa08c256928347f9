"""A stand-in for a third-party inventory client library.

It knows nothing about ringlog: like most libraries it logs through the
standard library's ``logging`` under its own logger name and passes its
structured data with ``extra=``. The service routes those records into
ringlog with ``ringlog.install_logging()``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Optional

logger = logging.getLogger("inventory")

_STOCK = {
    "sku-1": {"name": "kettle", "quantity": 12, "warehouse": "ams-1"},
    "sku-2": {"name": "teapot", "quantity": 2, "warehouse": "ams-1"},
    "sku-3": {"name": "mug", "quantity": 140, "warehouse": "fra-2"},
}
LOW_STOCK = 5


class InventoryClient:
    """Looks items up in a (simulated) remote inventory service."""

    def __init__(self, endpoint: str = "inventory.internal:7000") -> None:
        self.endpoint = endpoint

    async def lookup(self, sku: str) -> Optional[dict]:
        await asyncio.sleep(0.002)  # the simulated round trip
        item = _STOCK.get(sku)
        if item is None:
            logger.info(
                "item not found", extra={"sku": sku, "endpoint": self.endpoint}
            )
            return None
        logger.info(
            "stock lookup %s",
            sku,
            extra={
                "sku": sku,
                "quantity": item["quantity"],
                "warehouse": item["warehouse"],
            },
        )
        if item["quantity"] < LOW_STOCK:
            logger.warning(
                "low stock", extra={"sku": sku, "quantity": item["quantity"]}
            )
        return {"sku": sku, **item}
