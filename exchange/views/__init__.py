"""Exchange pages, one module per area; exchange/urls.py mounts them."""
