from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR, BPMN_DIR = ROOT / "catalog", ROOT / "bpmn"
