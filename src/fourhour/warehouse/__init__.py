"""The embedded DuckDB warehouse: schema, migrations and the connection."""

from fourhour.warehouse.connection import Warehouse, open_warehouse

__all__ = ["Warehouse", "open_warehouse"]
