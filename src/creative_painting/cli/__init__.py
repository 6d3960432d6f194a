"""The `creative-painting` command line."""
