from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Каталог"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from catalog.search import register_sqlite_function

        # Database plumbing, not business logic: the search fold must exist on every connection.
        connection_created.connect(register_sqlite_function, dispatch_uid="catalog.search_fold")
