"""Reading the XML of a diagram or a decision table that a designer sent: no entities resolved, no network, no
comments kept, and a parser of the reading thread's own.

lxml advises one parser per thread (https://lxml.de/parsing.html#parser-options, "avoid sharing parsers between
threads"): a parser holds its libxml2 context, whose names dictionary the document it builds keeps. A module-wide
parser used by gunicorn's threads and the scheduler's jobs is where one worker's first parses of the catalog, in
several threads at once, once refused a valid diagram with names of other elements ("Element BPMNShape, attribute
'formData' is not allowed")."""
from __future__ import annotations

import threading

from lxml import etree

_PARSERS = threading.local()


def read_xml(data: bytes):
    """The root element of `data`; raises etree.XMLSyntaxError if it is no well-formed XML."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.fromstring(data, parser)
