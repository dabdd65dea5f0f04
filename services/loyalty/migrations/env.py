from kit.migrations import run_env
from services.loyalty.models import metadata

run_env(metadata)
