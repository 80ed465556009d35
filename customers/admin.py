"""Customers in the admin: email login, organisation details checked, 1C sync state read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from config.http import client_address
from customers.admin_search import PhoneSearchMixin
from customers.login_throttle import LOGIN_THROTTLED, LoginThrottled, login_attempt_start, site_login_policy
from customers.models import User
from customers.services import PROFILE_FIELDS, customer_changes_announce, email_normalize
from customers.validators import company_requisites_errors, phone_normalize


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin login, throttled like every other password check (customers.login_throttle):
    superusers may also run the 1C exchange, so their password is worth guessing."""

    def clean(self) -> dict[str, Any]:
        try:
            attempt = login_attempt_start(
                policy=site_login_policy("admin"),
                address=client_address(self.request) if self.request is not None else None,
                login=str(self.cleaned_data.get("username") or ""),
            )
        except LoginThrottled:
            raise ValidationError(LOGIN_THROTTLED, code="throttled") from None
        try:
            cleaned = super().clean()
        except ValidationError:
            attempt.failed()
            raise
        attempt.succeeded()
        return cleaned


admin.site.login_form = ThrottledAdminLoginForm

REQUISITES = ("customer_type", "company_name", "inn", "kpp")
SYNC_FIELDS = ("onec_id", "created_in_1c", "needs_1c_export", "sync_status", "last_sync_at", "sync_error_message")


class _CustomerFormMixin(forms.ModelForm):
    """Email lowercased and unique in any case, phone in E.164, ИНН/КПП checked when edited."""

    def clean_email(self) -> str:
        email = email_normalize(self.cleaned_data.get("email") or "")
        duplicates = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if email and duplicates.exists():
            raise ValidationError("Покупатель с таким email уже есть.")
        return email

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        return phone_normalize(phone) if phone else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Details that came from 1C are checked only once a manager touches them, so an old
        # record with a doubtful ИНН can still get, say, a new role.
        if set(REQUISITES) & set(self.changed_data) and all(name in self.fields for name in REQUISITES):
            errors = company_requisites_errors(
                customer_type=cleaned.get("customer_type") or "",
                company_name=(cleaned.get("company_name") or "").strip(),
                inn=(cleaned.get("inn") or "").strip(),
                kpp=(cleaned.get("kpp") or "").strip().upper(),
            )
            for field, messages in errors.items():
                self.add_error(field, messages)
        return cleaned


class CustomerCreationForm(_CustomerFormMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class CustomerChangeForm(_CustomerFormMixin, UserChangeForm):
    class Meta:
        model = User
        fields = ("email",)  # the admin's fieldsets decide the rest


@admin.register(User)
class CustomerAdmin(PhoneSearchMixin, UserAdmin):
    phone_search_field = "phone"
    form = CustomerChangeForm
    add_form = CustomerCreationForm
    list_display = (
        "email",
        "display_name",
        "customer_type",
        "role",
        "phone",
        "inn",
        "sync_status",
        "is_active",
        "date_joined",
    )
    list_filter = ("role", "customer_type", "sync_status", "needs_1c_export", "is_active", "is_staff")
    search_fields = ("email", "first_name", "last_name", "company_name", "inn", "phone", "onec_id")
    ordering = ("email",)
    readonly_fields = (*SYNC_FIELDS, "last_login", "date_joined", "updated_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Контакты", {"fields": ("first_name", "last_name", "phone", "address")}),
        ("Покупатель", {"fields": ("customer_type", "company_name", "inn", "kpp", "role")}),
        ("Обмен с 1С", {"fields": SYNC_FIELDS}),
        ("Права", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Даты", {"fields": ("last_login", "date_joined", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request: Any, obj: User, form: forms.ModelForm[User], change: bool) -> None:
        # The admin's change view runs in a transaction, so the announcement commits with the save.
        super().save_model(request, obj, form, change)
        if change:
            customer_changes_announce(customer=obj, fields=set(form.changed_data) & set(PROFILE_FIELDS))
        else:
            filled = {name for name in PROFILE_FIELDS if getattr(obj, name)}
            customer_changes_announce(customer=obj, fields=filled, created=True)

    @admin.display(description="имя / организация")
    def display_name(self, obj: User) -> str:
        return obj.display_name
