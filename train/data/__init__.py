"""Training data: the game-data sources, prepare and pack, the datasets and their augmentation."""
