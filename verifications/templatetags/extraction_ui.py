"""Provider-file block for the extraction work (stub):

{% load extraction_ui %}{% provider_extractions provider %}
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def provider_extractions(context, provider):
    return ""
