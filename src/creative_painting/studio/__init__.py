"""The web studio: a durable job queue, the service that paints and extends, and the Gradio page."""
