"""Creative painting with latent diffusion models."""

__version__ = "0.3.0"  # as in pyproject.toml and CHANGELOG.md (tests/test_readme.py checks)
