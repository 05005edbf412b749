"""Verification pages: queue (PSV log and queue), packets, extraction review, packages."""
