"""Existing manager and auditor groups get `view_configchange` (roles.py names it for new ones).
The permission row is created here if post_migrate has not made it yet; create_permissions skips
rows that exist."""
from django.db import migrations

ROLES = ("manager", "auditor")


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    groups = list(Group.objects.filter(name__in=ROLES))
    if not groups:
        return  # a new install: roles.ensure_roles() creates the groups with the permission
    content_type, _ = ContentType.objects.get_or_create(app_label="requests_app", model="configchange")
    permission, _ = Permission.objects.get_or_create(content_type=content_type, codename="view_configchange",
                                                     defaults={"name": "Can view config change"})
    for group in groups:
        group.permissions.add(permission)


class Migration(migrations.Migration):

    dependencies = [
        ("requests_app", "0005_config_change"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
