"""Upwell: carrier invoices pushed to us by the ``onCarrierInvoiceEvent`` webhook (seeds/002)."""

from services.upwell.events import EventValidationError, parse_event
from services.upwell.models import CarrierInvoice, CarrierInvoiceEvent

__all__ = ["CarrierInvoice", "CarrierInvoiceEvent", "EventValidationError", "parse_event"]
