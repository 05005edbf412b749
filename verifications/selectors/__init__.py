"""Reads of the verifications app."""
