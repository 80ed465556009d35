"""Celery tasks of the customers app."""

from __future__ import annotations

from celery import shared_task

from customers.models import User
from customers.services import customer_password_setup_send


@shared_task(
    name="customers.send_password_setup_email",
    autoretry_for=(OSError,),  # the mail server is down: try again later
    retry_backoff=60,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def send_password_setup_email(customer_id: int) -> bool:
    customer = User.objects.filter(pk=customer_id).first()
    return customer is not None and customer_password_setup_send(customer=customer)
