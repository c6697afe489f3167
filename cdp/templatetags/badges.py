from django import template
from django.utils.safestring import SafeString

from cdp.palette import yes_no_page_badge

register = template.Library()


@register.simple_tag
def yes_no_badge(value: bool, yes: str, no: str) -> SafeString:
    return yes_no_page_badge(bool(value), yes=yes, no=no)
