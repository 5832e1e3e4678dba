"""``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``: the public entry points,
dispatching on the file name as Keras 3 does.

* ``x.keras`` — the Keras 3 archive (:mod:`refkeras.saving.saving_lib`);
* ``x.weights.h5`` — weights only, in the archive's layout;
* ``x.h5`` / ``x.hdf5`` — the legacy Keras 2 HDF5 format, read by
  :mod:`refkeras.saving.legacy_h5` (writing it is not supported: use ``.keras``).
"""

from __future__ import annotations

import os

from refkeras.saving import saving_lib

_LEGACY_SUFFIXES = (".h5", ".hdf5")


def save_model(model, filepath, overwrite: bool = True, zipped: bool | None = None, **kwargs):
    """Save ``model`` as a ``.keras`` archive (``zipped=False``: an unzipped directory).

    ``overwrite=False`` asks before replacing an existing file.  ``include_optimizer`` is
    accepted and ignored, as in Keras 3 (the archive always holds the optimizer state).
    """
    filepath_str = os.fspath(filepath)
    kwargs.pop("include_optimizer", None)
    save_format = kwargs.pop("save_format", None)
    if save_format and not filepath_str.endswith((".keras", *_LEGACY_SUFFIXES)):
        raise ValueError(
            "The `save_format` argument is deprecated in Keras 3. Please remove this argument "
            "and pass a file path with either `.keras` or `.h5` extension."
            f"Received: save_format={save_format}"
        )
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    if zipped is None:
        zipped = True
    if filepath_str.endswith(_LEGACY_SUFFIXES):
        raise ValueError(
            "Saving to the legacy HDF5 format (`.h5`/`.hdf5`) is not supported by refkeras; "
            "Keras 3 deprecates it. Save to the native Keras format instead, e.g. "
            f"`model.save('{os.path.splitext(filepath_str)[0]}.keras')`, or save only the "
            "weights with `model.save_weights('x.weights.h5')`. "
            f"Received: filepath={filepath_str}"
        )
    if zipped and not filepath_str.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add a `.keras` extension for the "
            f"native Keras format. Received: filepath={filepath_str}."
        )
    if not zipped and filepath_str.endswith(".keras"):
        raise ValueError(
            "When using `zipped=False`, the `filepath` argument should not end in `.keras`. "
            f"Received: filepath={filepath_str}"
        )
    if os.path.exists(filepath_str) and not overwrite:
        if not ask_to_proceed_with_overwrite(filepath_str):
            return
    saving_lib.save_model(model, filepath_str, zipped=zipped)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a model from a ``.keras`` archive (or unzipped directory), or a legacy ``.h5``.

    Args:
        custom_objects: ``{name: class or function}`` for custom objects in the config.
        compile: compile the model as it was compiled when saved (and restore the optimizer).
        safe_mode: refuse to load Python-lambda bytecode (``Lambda`` layers); pass ``False`` only
            for files you trust.
    """
    filepath_str = os.fspath(filepath)
    if filepath_str.endswith(".keras") or os.path.isdir(filepath_str):
        return saving_lib.load_model(
            filepath_str, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )
    if filepath_str.endswith((".weights.h5", ".weights.json")):
        raise ValueError(
            f"'{filepath_str}' holds only weights, not a model. Build the model, then call "
            "`model.load_weights(filepath)`."
        )
    if filepath_str.endswith(_LEGACY_SUFFIXES):
        from refkeras.saving import legacy_h5

        return legacy_h5.load_model(
            filepath_str, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )
    raise ValueError(
        f"File format not supported: filepath={filepath_str}. Keras 3 only supports V3 `.keras` "
        "files and legacy H5 format files (`.h5` extension)."
    )


def save_weights(model, filepath, overwrite: bool = True, max_shard_size=None) -> None:
    """Save the state of ``model`` to a ``.weights.h5`` file (the archive's weights layout)."""
    filepath_str = os.fspath(filepath)
    if max_shard_size is not None:
        raise NotImplementedError(
            "Sharded weights (`max_shard_size`, `.weights.json`) are not supported by refkeras; "
            "save to a single `.weights.h5` file."
        )
    if not filepath_str.endswith(".weights.h5"):
        raise ValueError(
            f"The filename must end in `.weights.h5`. Received: filepath={filepath_str}"
        )
    if os.path.exists(filepath_str) and not overwrite:
        if not ask_to_proceed_with_overwrite(filepath_str):
            return
    saving_lib.save_weights_only(model, filepath_str)


def load_weights(model, filepath, skip_mismatch: bool = False, **kwargs) -> None:
    """Load weights into ``model`` from a ``.weights.h5`` file, a ``.keras`` archive or a legacy
    ``.h5`` file.

    Args:
        skip_mismatch: leave layers whose variable count or shapes do not match the file
            unchanged (with a warning) instead of raising.
        by_name: match layers by name instead of by position in the model (also for
            ``.weights.h5`` and ``.keras``, which Keras 3 refuses); the optimizer state is then
            not loaded.
        objects_to_skip: layers (or the optimizer) to leave unchanged.

    Without ``skip_mismatch`` a mismatch raises ``ValueError`` naming the layer and the expected
    and received shapes, and no weight is changed.
    """
    filepath_str = os.fspath(filepath)
    by_name = bool(kwargs.pop("by_name", False))
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if filepath_str.endswith((".keras", ".weights.h5")):
        saving_lib.load_weights_only(
            model,
            filepath_str,
            skip_mismatch=skip_mismatch,
            by_name=by_name,
            objects_to_skip=objects_to_skip,
        )
    elif filepath_str.endswith(".weights.json"):
        raise NotImplementedError(
            "Sharded weights (`.weights.json`) are not supported by refkeras."
        )
    elif filepath_str.endswith(_LEGACY_SUFFIXES):
        if objects_to_skip is not None:
            raise ValueError(
                f"`objects_to_skip` only supports loading '.weights.h5' files. Received: "
                f"{filepath_str}"
            )
        from refkeras.saving import legacy_h5

        legacy_h5.load_weights(model, filepath_str, by_name=by_name, skip_mismatch=skip_mismatch)
    else:
        raise ValueError(
            f"File format not supported: filepath={filepath_str}. Keras 3 only supports V3 "
            "`.keras` files, `.weights.h5` files and legacy H5 format files (`.h5` extension)."
        )


def ask_to_proceed_with_overwrite(filepath: str) -> bool:
    """Ask on the terminal whether to overwrite ``filepath`` (Keras's prompt)."""
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n] ").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True
