"""Stockroom: a self-hostable inventory service implementing the Wix Stores Catalog V3
Inventory Items API."""

__version__ = "0.1.0"
