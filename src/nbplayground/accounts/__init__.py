"""User Management context: identity, API-key references, limits and the budget gate."""

from nbplayground.accounts.access import readable_user
from nbplayground.accounts.gate import BudgetGate, Hold, Snapshot, UsageLedger, ledger_rows
from nbplayground.accounts.identity import admins, config_dir, current_user, default_plan
from nbplayground.accounts.keys import ApiKey, check_key, fingerprint, scrub
from nbplayground.accounts.limits import PLANS, Limits, billable, check_overrides, check_plan
from nbplayground.accounts.resolver import KEY_ORDER, EnvSecret, KeyResolver, SecretStore

__all__ = [
    "KEY_ORDER",
    "PLANS",
    "ApiKey",
    "BudgetGate",
    "EnvSecret",
    "Hold",
    "KeyResolver",
    "Limits",
    "SecretStore",
    "Snapshot",
    "UsageLedger",
    "admins",
    "billable",
    "check_key",
    "check_overrides",
    "check_plan",
    "config_dir",
    "current_user",
    "default_plan",
    "fingerprint",
    "ledger_rows",
    "readable_user",
    "scrub",
]
