"""Qasida ERP (Asseco): stock cards, warehouses, products, customers, orders, claims, liabilities (seeds/003)."""
