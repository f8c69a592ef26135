"""Training, data preparation and evaluation scripts for still2motion (uses the package, never the reverse)."""
