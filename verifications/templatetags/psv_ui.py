"""Provider-file block for the queue work (stub):

{% load psv_ui %}{% provider_psv provider %}
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def provider_psv(context, provider):
    return ""
