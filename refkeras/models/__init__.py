"""``refkeras.models``: Model, Sequential, Functional."""

from refkeras.models.functional import Functional  # noqa: F401
from refkeras.models.model import Model, model_from_json  # noqa: F401
from refkeras.models.sequential import Sequential  # noqa: F401
from refkeras.saving.saving_api import load_model, save_model  # noqa: F401
