import os
import sys
from pathlib import Path

# Tests import the package from the source tree unless it is installed.
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
