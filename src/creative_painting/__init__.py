"""Creative painting with latent diffusion models."""

__version__ = "0.1.0"
