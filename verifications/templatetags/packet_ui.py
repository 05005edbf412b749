"""Provider-file block of the packets work:

{% load packet_ui %}{% provider_packet provider %}

"Re-verification": the one-click start button (members who may change the roster), the
current (or latest) packet's steps with their status, a link to the packet page, and the
CAQH ProView export.
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("verifications/packets/_provider_packet.html", takes_context=True)
def provider_packet(context, provider):
    from credex.capabilities import CHANGE_ROSTER, has_capability
    from verifications.models import PacketStatus
    from verifications.selectors.packets import packet_steps, provider_current_packet

    request = context.get("request")
    org = getattr(request, "org", None) or context.get("org")
    membership = getattr(request, "membership", None)
    packet = provider_current_packet(org=org, provider=provider)
    return {
        "org": org,
        "provider": provider,
        "packet": packet,
        "steps": packet_steps(org=org, packet=packet) if packet else [],
        "in_progress": bool(packet and packet.status == PacketStatus.IN_PROGRESS),
        "can_change": bool(membership and has_capability(membership.role, CHANGE_ROSTER)),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
