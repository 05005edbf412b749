"""Exchange background work: releases."""

from __future__ import annotations
