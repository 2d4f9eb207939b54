"""Inventory sync: stock feeds read as streams and applied in atomic batches (see services)."""
