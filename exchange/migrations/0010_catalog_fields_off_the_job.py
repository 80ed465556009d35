from django.db import migrations


class Migration(migrations.Migration):
    # Separate from 0009: PostgreSQL refuses to alter a table with pending deferred-constraint
    # events from the rows 0009 copied in the same transaction.

    dependencies = [
        ("exchange", "0009_catalog_state_beside_the_job"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='importfile',
            name='catalog_scopes',
        ),
        migrations.RemoveField(
            model_name='importfile',
            name='full_catalog',
        ),
        migrations.RemoveField(
            model_name='importfile',
            name='full_offers',
        ),
        migrations.RemoveField(
            model_name='importfile',
            name='seen_products',
        ),
        migrations.RemoveField(
            model_name='importfile',
            name='seen_variants',
        ),
        migrations.RemoveField(
            model_name='importsession',
            name='catalog_state',
        ),
        migrations.RemoveField(
            model_name='importsession',
            name='deactivate_requested',
        ),
        migrations.RemoveField(
            model_name='importsession',
            name='full_catalog',
        ),
        migrations.RemoveField(
            model_name='importsession',
            name='full_offers',
        ),
        migrations.RemoveField(
            model_name='importsession',
            name='package_closed_at',
        ),
        migrations.RemoveField(
            model_name='importsession',
            name='seen_products',
        ),
        migrations.RemoveField(
            model_name='importsession',
            name='seen_variants',
        ),
        ]
