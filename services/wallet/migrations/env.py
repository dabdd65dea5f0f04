from kit.migrations import run_env
from services.wallet.models import metadata

run_env(metadata)
