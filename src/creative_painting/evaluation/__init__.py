"""Evaluation: judges of painted images (whose palette and brushwork, which subject)."""
