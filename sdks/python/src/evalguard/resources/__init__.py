"""The API's resources, each in a blocking and an ``async`` form."""

from ._auto_eval import AsyncAutoEval, AutoEval
from ._keys import ApiKeys, AsyncApiKeys
from ._projects import AsyncProjects, Projects
from ._traffic import AsyncTraffic, Traffic

__all__ = [
    "ApiKeys",
    "AsyncApiKeys",
    "AsyncAutoEval",
    "AsyncProjects",
    "AsyncTraffic",
    "AutoEval",
    "Projects",
    "Traffic",
]
