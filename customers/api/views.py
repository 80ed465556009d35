"""Customer API: registration, token login and the customer's own profile."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from customers.api.serializers import (
    CustomerSerializer,
    ProfileUpdateSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from customers.models import User
from customers.services import customer_register, customer_token_get, customer_token_obtain, customer_update


class CredentialsThrottle(AnonRateThrottle):
    """Slows down password guessing and mass sign-ups from one address."""

    scope = "credentials"
    rate = "20/min"


@extend_schema(tags=["customers"])
class RegisterView(APIView):
    permission_classes = ()
    throttle_classes = (CredentialsThrottle,)

    @extend_schema(request=RegisterSerializer, responses={201: RegisteredSerializer})
    def post(self, request: Request) -> Response:
        """Register a retail customer; the answer carries an API token, so no separate login is needed."""
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_register(**data.validated_data)
        body = {"token": customer_token_get(customer=customer), "customer": CustomerSerializer(customer).data}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["customers"])
class TokenView(APIView):
    permission_classes = ()
    throttle_classes = (CredentialsThrottle,)

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer})
    def post(self, request: Request) -> Response:
        """The customer's API token for email and password (the same token every time)."""
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"token": customer_token_obtain(**data.validated_data)})


@extend_schema(tags=["customers"])
class MeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: CustomerSerializer})
    def get(self, request: Request) -> Response:
        """The logged-in customer's profile, including the role that sets their prices."""
        assert isinstance(request.user, User)  # IsAuthenticated
        return Response(CustomerSerializer(request.user).data)

    @extend_schema(request=ProfileUpdateSerializer, responses={200: CustomerSerializer})
    def patch(self, request: Request) -> Response:
        """Change any part of the profile; the role and the 1C fields are not the customer's to change."""
        assert isinstance(request.user, User)  # IsAuthenticated
        data = ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_update(customer=request.user, **data.validated_data)
        return Response(CustomerSerializer(customer).data)
