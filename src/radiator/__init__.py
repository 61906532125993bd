"""Radiator: the DevOps Handbook's feedback and learning loops as one self-hosted product."""

__version__ = "0.1.0"

__all__ = ["__version__"]
