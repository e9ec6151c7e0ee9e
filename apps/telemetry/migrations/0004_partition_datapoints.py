"""PostgreSQL only: ``telemetry_datapoint`` becomes a table partitioned by month on ``start`` (every stored row
kept), the rollups get a generated column ``packed`` for fast reads and are computed from the stored points
(issue 22). Other databases (SQLite, the demo) keep
the single plain table. The Django model state does not change: see :mod:`apps.telemetry.partitions`."""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from apps.telemetry import partitions, rollups

    with schema_editor.connection.cursor() as cursor:
        partitions.convert_to_partitioned(cursor, now=timezone.now())
        cursor.execute(rollups.PACKED_COLUMN_DDL)
        rollups.rollups_backfill(cursor)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from apps.telemetry import partitions

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE telemetry_datapointrollup DROP COLUMN packed")
        partitions.convert_to_plain(cursor)


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0003_datapointrollup")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
