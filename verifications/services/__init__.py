"""Writes of the verifications app (see the modules: records, queue, packets, extraction,
packages, shares)."""
