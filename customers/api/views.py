"""Customer API: registration, token login and the customer's own profile."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from config.http import client_address
from customers.api.serializers import (
    CustomerSerializer,
    ProfileUpdateSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from customers.login_throttle import LOGIN_THROTTLED, LoginThrottled, login_attempt_start, site_login_policy
from customers.models import User
from customers.services import customer_register, customer_token_get, customer_token_obtain, customer_update


class CredentialsThrottle(SimpleRateThrottle):
    """Slows down password guessing and mass sign-ups from one address, counted in the shared
    cache (so per site, not per worker process) and whatever token the request carries: a valid
    token in the header must not buy unlimited tries at someone else's password."""

    scope = "credentials"
    rate = "20/min"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request) or "-"}


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
        try:
            attempt = login_attempt_start(
                policy=site_login_policy("api-token"),
                address=client_address(request),
                login=data.validated_data["email"],
            )
        except LoginThrottled as exc:
            raise Throttled(wait=exc.retry_after, detail=LOGIN_THROTTLED) from None
        try:
            token = customer_token_obtain(**data.validated_data)
        except ValidationError:
            attempt.failed()
            raise
        attempt.succeeded()
        return Response({"token": token})


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
