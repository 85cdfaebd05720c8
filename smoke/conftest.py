import sys
from pathlib import Path

# Lets the tests import smoke_pipelines without installing this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))
