"""One module per vendor: its synced resources, declared as data (`declarations()`)."""
