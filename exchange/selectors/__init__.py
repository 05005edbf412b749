"""Exchange reads, one module per area."""
