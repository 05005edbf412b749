"""Provider-file block for the packages work (stub):

{% load package_ui %}{% provider_packages provider %}
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def provider_packages(context, provider):
    return ""
