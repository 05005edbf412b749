"""Provider-file block for the packets work (stub):

{% load packet_ui %}{% provider_packet provider %}
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def provider_packet(context, provider):
    return ""
