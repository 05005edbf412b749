"""Exchange hook receivers, one module per area; each has register()."""
