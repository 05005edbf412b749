"""Hook points verifications declares for the apps downstream of it (see credex/hooks.py for the
contract: receivers are registered in AppConfig.ready(), run synchronously inside the caller's
transaction, audit there and enqueue with on_commit)."""

from __future__ import annotations

from credex.hooks import HookPoint  # noqa: F401
