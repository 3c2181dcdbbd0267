"""Extraction: turn listed objects into prepared assets (images, PDF pages, product records)."""
