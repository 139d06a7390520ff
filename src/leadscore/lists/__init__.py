"""Active lists: segments defined in a file beside the model, kept current as data changes.

A list is filter groups (every filter of a group holds; any group is enough) in the criteria
language — properties, events, scores and threshold labels, lifecycle stage, membership of
other lists — minus exclusions. `ListSet.evaluate(snapshot)` gives a contact's memberships;
`ListSet.test(snapshot, name)` says which filters hold and which do not.
"""

from leadscore.lists.definition import ActiveList, ListSet, load_lists, parse_lists
from leadscore.lists.membership import ListTest

__all__ = ["ActiveList", "ListSet", "ListTest", "load_lists", "parse_lists"]
