"""Qasida ERP (Asseco): stock cards, warehouses, products, customers, orders, liabilities (seeds/003)."""
