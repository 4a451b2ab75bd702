"""The sequence flows of a diagram, read from its XML: what a designer's test runs are measured against
(services/process_tests.py). SpiffWorkflow keeps the elements a flow joins but not the flow's own id, which the
modeler needs to colour it."""
from __future__ import annotations

from lxml import etree

from workflows.domain.process_tests import Flow

from .bpmn_elements import NS
from .xml_reading import read_xml



def sequence_flows(bpmn: str, process_key: str) -> list[Flow]:
    """The flows of the executable process `process_key` and its sub-processes, in the file's order; a flow out of
    a gateway is a branch."""
    root = read_xml(bpmn.encode("utf-8"))
    process = root.find(f"bpmn:process[@id='{process_key}']", NS)
    if process is None:
        return []
    gateways = {node.get("id") for node in process.iter() if etree.QName(node).localname.endswith("Gateway")}
    return [Flow(flow.get("id"), flow.get("sourceRef"), flow.get("targetRef"), flow.get("sourceRef") in gateways)
            for flow in process.iterfind(".//bpmn:sequenceFlow", NS)]

