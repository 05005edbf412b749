"""Roster services, one module per area (providers, credentials, documents, imports, inbox,
enrollment, committee). Import from the module: `from roster.services.providers import ...`."""
