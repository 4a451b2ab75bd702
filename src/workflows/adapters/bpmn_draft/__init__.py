"""Draft a BPMN 2.0 diagram for each catalog item (the `workflows draft-bpmn` command).

One module a concern: spec.py (what a drafted process is made of), shapes.py (the items' processes),
prohibited.py (禁办情形 tables), layout.py (the layout and the XML); this one reads the catalog and writes the files.

The drafts follow docs/bpmn-conventions.md: one executable process per file inside a collaboration with one
participant, lanes named after roles, stages as Camunda properties, decision forms with gateways, external service
tasks for the handlers, and full diagram interchange. Designers then edit the files in bpmn-js.

Three small tables drive everything: FORMS (the application data of the start event), SHAPES (the main path of
each process shape, as steps) and PROFILES (which shape, parameter and form each item uses). One layout routine
turns the steps into XML: the main path runs left to right, one node per column, each node centred in its lane's
main row (service tasks and message events take the lane of the node before them); the alternative end event of a
gateway sits right of it and lower, in the same lane.

Time limits (docs/bpmn-conventions.md, "Time limits and escalation"): once per case, not on every task. Each timer
of CASE_TIMERS, and one per stage limit the process's steps name (Step.limits), starts a non-interrupting timer
event sub-process at the process level, drawn in a row along the bottom of the 科室负责人 lane (always the last
lane): its timer start event waits for the limit's moment (FAR_FUTURE until the limit runs), its `escalate` service
task raises the card, and its escalation end event closes it. The 承诺时限超期 one asks whether its red card is a
new one (the handler says escalation_raised): a repeat ends at 已督办过, a new one goes on to the diagram's one 督办
task. The clerks' tasks carry no timers: the main path stays readable.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .layout import draft_process
from .prohibited import DECISIONS_DIR, decision_id, draft_decision
from .shapes import partner_spec_for_item, spec_for_item
from .spec import ProcessDraftSpec


def load_catalog(items_yaml: Path) -> list[dict]:
    """The national items of items.yaml, each with what the agencies' lists beside it (agencies/*.yaml) say
    that shapes its process: `waivable` (some agency lists a material of it as 容缺) and `prohibited` (agency code
    -> (the list's name, the agency's 禁办情形))."""
    data = yaml.safe_load(Path(items_yaml).read_text(encoding="utf-8"))
    items = data["items"] if isinstance(data, dict) else data
    facts = _agency_facts(Path(items_yaml).parent / "agencies")
    return [{**item, **facts.get(str(item.get("code")), {})} for item in items]


def _agency_facts(agencies_dir: Path) -> dict[str, dict]:
    facts: dict[str, dict] = {}
    for path in sorted(agencies_dir.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        agency = document["agency"]
        for item in document.get("items") or ():
            found = facts.setdefault(str(item["code"]), {})
            if any(material.get("waivable") for material in item.get("materials") or ()):
                found["waivable"] = True
            if item.get("prohibited"):
                found.setdefault("prohibited", {})[str(agency["code"])] = (f"{agency['name']}违规禁办事项清单",
                                                                          tuple(item["prohibited"]))
    return facts


def draft_item(item_code: str, catalog_items: list[dict]) -> bytes:
    """The draft of one item, by item code or process key (a partner process's key drafts the partner side)."""
    for item in catalog_items:
        if item_code in (str(item.get("code")), item.get("process")):
            return draft_process(spec_for_item(item))
        if item_code == item.get("partner_process"):
            return draft_process(partner_spec_for_item(item))
    raise KeyError(f"item {item_code} is not in the catalog")


def write_all(items_yaml: Path, out_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Draft every catalog item (and partner process) into out_dir/<process id>.bpmn, and its 禁办情形 table into
    out_dir/decisions/prohibited_<code>.dmn; returns the files written.

    The files are the source of truth once designers edit them: an existing file is kept unless `overwrite`.
    """
    out_dir = Path(out_dir)
    written = []
    for item in load_catalog(items_yaml):
        drafts = [(out_dir / f"{spec.process_id}.bpmn", spec) for spec in
                  (spec_for_item(item), partner_spec_for_item(item)) if spec]
        if item.get("prohibited"):
            drafts.append((out_dir / DECISIONS_DIR / f"{decision_id(item)}.dmn", item))
        for path, source in drafts:
            if overwrite or not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(draft_process(source) if isinstance(source, ProcessDraftSpec)
                                 else draft_decision(source))
                written.append(path)
    return written
