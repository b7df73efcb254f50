"""The live link to the VS Code extension: the protocol of docs/protocol.md, in Python."""

from .trainer import TrainerLink

__all__ = ["TrainerLink"]
