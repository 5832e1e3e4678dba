"""``refkeras.saving``: configs, object registration, and model files (``saving_api``)."""

from refkeras.saving.object_registration import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from refkeras.saving.saving_api import (  # noqa: F401
    load_model,
    load_weights,
    save_model,
    save_weights,
)
from refkeras.saving.serialization_lib import (  # noqa: F401
    deserialize_keras_object,
    serialize_keras_object,
)
