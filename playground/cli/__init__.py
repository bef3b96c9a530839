"""The command line: `python -m playground train|runs|eval|sample|caption|translate|lab|describe|pretrain`."""

from .commands import build_parser, main
from .train_flags import config_from_args

__all__ = ["build_parser", "config_from_args", "main"]
