"""The shared cache's table (settings.CACHES, the database cache unless REDIS_URL is set): the rate limits
of sign-in, sign-up and password reset live there, so every web worker counts the same attempts."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Idempotent; does nothing when the cache is Redis.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("cdp", "0004_archive_changes")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False)]
