"""The Postgres backend CredEx runs on: Django's, plus the audit log's commit-time sealing."""
