"""Quaderno: tax calculation, tax-ID validation, sales invoices and credit notes (seeds/001)."""
