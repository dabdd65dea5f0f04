from kit.migrations import run_env
from services.members.models import metadata

run_env(metadata)
