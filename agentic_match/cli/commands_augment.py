"""Augmentation commands (augment, complete, clean)."""


def register(app) -> None:
    """Add the augmentation commands to the root app."""
