"""Page slots the capabilities fill (hooks.panel): the core's templates name the slot only."""
from django import template
from django.utils.safestring import mark_safe

from .. import hooks

register = template.Library()


@register.simple_tag(takes_context=True)
def hook_panels(context, slot: str):
    request = context.get("request")
    case = context.get("case")
    if request is None or case is None:
        return ""
    return mark_safe("".join(hooks.render_panels(slot, request, case, token=context.get("token"))))  # noqa: S308
