"""Customer roles (price tiers). Kept apart from the models so the catalog can map price types
to roles without importing the user model."""

from django.db import models


class CustomerRole(models.TextChoices):
    RETAIL = "retail", "Розница"
    WHOLESALE_1 = "wholesale_1", "Опт, уровень 1"
    WHOLESALE_2 = "wholesale_2", "Опт, уровень 2"
    WHOLESALE_3 = "wholesale_3", "Опт, уровень 3"
