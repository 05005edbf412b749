"""Exchange writes, one module per area."""
