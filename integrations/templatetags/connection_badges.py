from django import template
from django.utils.safestring import SafeString

from integrations.models import Connection
from integrations.palette import connection_status_page_badge

register = template.Library()


@register.simple_tag
def connection_status_badge(connection: Connection) -> SafeString:
    return connection_status_page_badge(connection)
