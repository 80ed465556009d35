from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Обмен с 1С"

    def ready(self) -> None:
        # Connects the customer sync's receiver of customers.signals.customer_changed.
        from exchange.counterparties import export  # noqa: F401
