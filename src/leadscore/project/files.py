"""The names of a project's files, apart from the schema that reads them (`settings`), so that
what only needs a name does not load pydantic."""

CONFIG_FILE = "leadscore.toml"
DATA_FOLDER = ".leadscore"  # the project's own data: the embedded store, cached models
CACHE_FOLDER = f"{DATA_FOLDER}/cache"
DEFAULT_STORE = f"sqlite:///{DATA_FOLDER}/store.db"
DEFAULT_MODEL = "models/model.yaml"
