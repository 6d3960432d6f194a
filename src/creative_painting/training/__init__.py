"""Retraining Stable Diffusion on an art collection: config, data, the loss, the accelerate trainer, checkpoints,
the memory estimate, the VAE trainer and the CPU experiment."""
