"""Re-exports of pimsim.hw.schema, .load and .dramsim3; to be removed with the layout move."""

from pimsim.hw.dramsim3 import (
    DEFAULT_IO_PJ_PER_BIT,
    DRAMSIM3_PROTOCOLS,
    import_dramsim3,
    import_dramsim3_with_comments,
)
from pimsim.hw.load import (
    BUILTIN_PROFILE_DIR,
    PROFILE_PATH_ENV,
    list_profiles,
    load_profile,
    profile_dirs,
    profile_from_dict,
    profile_to_yaml,
    resolve_profile_path,
    save_profile,
)
from pimsim.hw.schema import ADDRESS_FIELDS, Controller, DramOrg, Power, Profile, Timing

__all__ = [
    "ADDRESS_FIELDS", "BUILTIN_PROFILE_DIR", "Controller", "DEFAULT_IO_PJ_PER_BIT",
    "DRAMSIM3_PROTOCOLS", "DramOrg", "PROFILE_PATH_ENV", "Power", "Profile", "Timing",
    "import_dramsim3", "import_dramsim3_with_comments", "list_profiles", "load_profile",
    "profile_dirs", "profile_from_dict", "profile_to_yaml", "resolve_profile_path",
    "save_profile",
]
