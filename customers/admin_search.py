"""Admin search that understands phone numbers as people type them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from customers.validators import phone_normalize


class PhoneSearchMixin(admin.ModelAdmin):
    """A phone typed the way people write it (8 999 123-45-67) finds the stored E.164 number in
    ``phone_search_field``, besides what the admin's own search_fields find."""

    phone_search_field = "phone"

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            phone = phone_normalize(search_term)
        except ValidationError:
            return found, may_have_duplicates
        return found | queryset.filter(**{self.phone_search_field: phone}), may_have_duplicates
