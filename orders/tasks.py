"""Celery tasks of the shop's orders: ids in, services do the work."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from orders.services import order_status_email_send


@shared_task(
    name="orders.send_order_status_email",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=60,
    time_limit=90,
)
def send_order_status_email(order_id: int, old_status: str, new_status: str) -> bool:
    return order_status_email_send(order_id=order_id, old_status=old_status, new_status=new_status)
