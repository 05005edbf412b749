"""Roster reads, one module per area. Import from the module."""
