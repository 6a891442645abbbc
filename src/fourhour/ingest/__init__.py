"""Ingest: read published A&E returns and reference files, validate, and store them."""
