"""Hook points verifications declares for the apps downstream of it (see credex/hooks.py for the
contract: receivers are registered in AppConfig.ready(), run synchronously inside the caller's
transaction, audit there and enqueue with on_commit).

None yet: nothing above verifications (committee, enrollment, the exchange) needs to react to
a verification from inside its transaction today; declare the hook point here when one does.
"""

from __future__ import annotations

from credex.hooks import HookPoint  # noqa: F401
