"""The daily business summary (营业汇报) as managers read it: pure rules, no I/O.

members, wallet and loyalty each answer ``DailySummary`` with figures per store; this module
merges them, keeps the stores of one manager's subtree, adds them up per region (the store's
parent path) and for the whole subtree, and lays the lines out as plain text for the email
template."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kit.auth import may_access
from services.notify.domain import event_kind, yuan

# (figure as the services name it, service that answers it); wallet and loyalty both report a
# refund_amount, so figures are kept per service and named here.
FIGURES = {
    "new_members": ("members", "new_members"),
    "top_up_count": ("wallet", "top_up_count"),
    "top_up_amount": ("wallet", "top_up_amount"),
    "payment_amount": ("wallet", "payment_amount"),
    "sales_count": ("loyalty", "sales_count"),
    "sales_amount": ("loyalty", "sales_amount"),
    "refund_amount": ("loyalty", "refund_amount"),
    "points_earned": ("loyalty", "points_earned"),
    "points_redeemed": ("loyalty", "points_redeemed"),
}
MONEY = {"top_up_amount", "payment_amount", "sales_amount", "refund_amount"}


@dataclass
class Totals:
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))

    def add(self, other: Mapping[str, int]) -> None:
        for key in FIGURES:
            self.figures[key] += other.get(key, 0)

    def line(self, label: str) -> str:
        """One row of the report table; the template carries the column headings (so each
        locale names them): sales count | sales | refunds | top-ups count | top-ups | stored
        value spent | new members | points earned | points redeemed."""
        f = self.figures
        cells = (
            f["sales_count"], yuan(f["sales_amount"]), yuan(f["refund_amount"]), f["top_up_count"],
            yuan(f["top_up_amount"]), yuan(f["payment_amount"]), f["new_members"], f["points_earned"],
            f["points_redeemed"],
        )  # fmt: skip
        return " | ".join([label, *map(str, cells)])


def merge(replies: Mapping[str, Iterable[tuple[str, Mapping[str, int]]]]) -> dict[str, dict[str, int]]:
    """``{service: [(store_path, figures)]}`` -> ``{store_path: {figure: value}}`` (our names)."""
    stores: dict[str, dict[str, int]] = {}
    for name, (service, figure) in FIGURES.items():
        for store_path, figures in replies.get(service, ()):
            row = stores.setdefault(store_path, dict.fromkeys(FIGURES, 0))
            row[name] += int(figures.get(figure, 0))
    return stores


def region_of(store_path: str) -> str:
    return store_path.rsplit("/", 1)[0] if "/" in store_path else store_path


def variables_for(scope: str, day: str, stores: Mapping[str, Mapping[str, int]]) -> dict[str, str]:
    """The template variables of ``scope``'s report: totals, a line per region and per store
    (only stores with activity; an empty subtree reports zeros)."""
    mine = {path: figures for path, figures in sorted(stores.items()) if may_access(scope, path)}
    total, regions = Totals(), {}
    for path, figures in mine.items():
        total.add(figures)
        regions.setdefault(region_of(path), Totals()).add(figures)
    out = {key: (yuan(value) if key in MONEY else str(value)) for key, value in total.figures.items()}
    return {
        "date": day,
        "scope": scope,
        **{(k.replace("_amount", "_yuan") if k in MONEY else k): v for k, v in out.items()},
        "regions": "\n".join(t.line(path) for path, t in sorted(regions.items())) or "-",
        "stores": "\n".join(_store_line(path, f) for path, f in mine.items()) or "-",
    }


def _store_line(path: str, figures: Mapping[str, int]) -> str:
    t = Totals()
    t.add(figures)
    return t.line(path)


VARIABLES = event_kind("daily_summary").variables
