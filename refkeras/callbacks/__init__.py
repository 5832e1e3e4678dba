"""``refkeras.callbacks``."""

from refkeras.callbacks.backup_and_restore import BackupAndRestore  # noqa: F401
from refkeras.callbacks.callback import Callback  # noqa: F401
from refkeras.callbacks.callback_list import CallbackList  # noqa: F401
from refkeras.callbacks.csv_logger import CSVLogger  # noqa: F401
from refkeras.callbacks.early_stopping import EarlyStopping  # noqa: F401
from refkeras.callbacks.history import History  # noqa: F401
from refkeras.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from refkeras.callbacks.learning_rate_scheduler import LearningRateScheduler  # noqa: F401
from refkeras.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from refkeras.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
from refkeras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau  # noqa: F401
from refkeras.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
