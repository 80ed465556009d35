from django.urls import path

from customers.api.views import MeView, RegisterView, TokenView

urlpatterns = [
    path("customers/register/", RegisterView.as_view(), name="customer-register"),
    path("customers/token/", TokenView.as_view(), name="customer-token"),
    path("customers/me/", MeView.as_view(), name="customer-me"),
]
