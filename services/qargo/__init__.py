"""Qargo TMS: transport orders, charges, documents, resources and accounting sync tasks (seeds/000)."""
