"""Shipping a trained generator: the bundled model, its card and the pictures the docs show."""
