"""Evaluation: artist attribution of generated paintings."""
