"""`{{ path|absolute }}`: a site path as an absolute URL, for e-mails (config.mail.absolute_url)."""

from django import template

from config.mail import absolute_url

register = template.Library()


@register.filter
def absolute(path: str) -> str:
    return absolute_url(str(path))
