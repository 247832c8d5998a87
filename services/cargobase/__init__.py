"""Cargobase: freight invoices and their audit status (seeds/004)."""
