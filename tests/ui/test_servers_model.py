"""ServerTableModel and ServerFilterModel: checked by qtmodeltester, updated in place, searched, filtered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.server_usage import ServerUsage
from drs_desktop.ui.servers.server_table_model import (
    COLUMNS,
    HOSTNAME,
    LAG,
    LAST_LAUNCH,
    REPLICATION,
    SERVER_ID_ROLE,
    USED_BY,
    ServerFilterModel,
    ServerTableModel,
    human_lag,
    os_family,
)

WIN = "Microsoft Windows Server 2022 Standard"
RHEL = "Red Hat Enterprise Linux release 8.9 (Ootpa)"


def server(n: int, hostname: str, **kwargs: object) -> SourceServer:
    values: dict[str, object] = {
        "source_server_id": f"s-{n:017d}",
        "hostname": hostname,
        "replication_state": "CONTINUOUS",
        "lag_seconds": 5,
        "os": RHEL,
    }
    values.update(kwargs)
    return SourceServer(**values)  # type: ignore[arg-type]


SERVERS = (
    server(1, "shop-web-01", tags={"Application": "shop", "Tier": "web"}, lag_seconds=12),
    server(2, "shop-db-01", tags={"Application": "shop", "Tier": "db"}, os=WIN, lag_seconds=3),
    server(3, "legacy-fax", tags={"Application": "crm", "Tier": "db"}, os=WIN, replication_state="STALLED",
           lag_seconds=7200),
    server(4, "new-build", tags={"Application": "shop", "Tier": "app"}, replication_state="INITIATING",
           lag_seconds=None),
    server(5, "retired-box", tags={"Environment": "production"}, replication_state="DISCONNECTED", os="",
           last_launch_status="LAUNCHED", last_launched_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
)  # fmt: skip
INVENTORY = Inventory(SERVERS, datetime(2026, 1, 5, 8, 0, tzinfo=UTC), "123456789012", "us-east-1")
ID = {s.hostname: s.source_server_id for s in SERVERS}


@pytest.fixture
def model(qapp: QApplication) -> ServerTableModel:
    table = ServerTableModel()
    table.set_inventory(INVENTORY)
    table.set_usage({ID["shop-web-01"]: ServerUsage(("shop-web",), ("Shop DR",))})
    return table


@pytest.fixture
def proxy(model: ServerTableModel) -> ServerFilterModel:
    filtered = ServerFilterModel()
    filtered.setSourceModel(model)
    return filtered


def shown(proxy: ServerFilterModel) -> list[str]:
    ids = [proxy.data(proxy.index(row, 0), SERVER_ID_ROLE) for row in range(proxy.rowCount())]
    names = {v: k for k, v in ID.items()}
    return sorted(names[i] for i in ids)


def test_models_pass_the_model_tester(
    qtmodeltester: ModelTester, model: ServerTableModel, proxy: ServerFilterModel
) -> None:
    qtmodeltester.check(model, force_py=True)
    proxy.set_search("shop")
    qtmodeltester.check(proxy, force_py=True)


def test_columns_and_values(model: ServerTableModel) -> None:
    assert model.columnCount() == len(COLUMNS) == 11 and model.rowCount() == 5
    row = model.row_of(ID["legacy-fax"])
    texts = [model.data(model.index(row, column)) for column in range(len(COLUMNS))]
    assert texts == [
        "legacy-fax", "connected", ID["legacy-fax"], WIN, "STALLED", "2 h", "Application=crm, Tier=db",
        "never", "", "", "",
    ]  # fmt: skip
    assert isinstance(model.data(model.index(row, REPLICATION), Qt.ItemDataRole.DecorationRole), QIcon)
    web = model.row_of(ID["shop-web-01"])
    assert model.data(model.index(web, USED_BY)) == "Shop DR (groups: shop-web)"
    assert "Protection groups: shop-web" in model.data(model.index(web, USED_BY), Qt.ItemDataRole.ToolTipRole)
    retired = model.row_of(ID["retired-box"])
    assert model.data(model.index(retired, LAST_LAUNCH)) == "Launched, 2026-01-02 03:04 UTC"
    assert model.data(model.index(model.row_of(ID["new-build"]), LAG)) == "—"


LAGS = [(None, "—"), (0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"), (3600, "1 h")]
LAGS += [(3900, "1 h 5 min"), (86400, "1 d"), (90000, "1 d 1 h")]


@pytest.mark.parametrize(("seconds", "text"), LAGS)
def test_human_lag(seconds: int | None, text: str) -> None:
    assert human_lag(seconds) == text


def test_os_family() -> None:
    assert [os_family(x) for x in (WIN, RHEL, "Ubuntu 22.04.4 LTS", " ")] == [
        "Windows",
        "Linux",
        "Linux",
        "Unknown",
    ]


def test_a_new_inventory_updates_rows_in_place(model: ServerTableModel) -> None:
    events: list[str] = []
    model.modelReset.connect(lambda: events.append("reset"))
    model.rowsRemoved.connect(lambda _p, first, last: events.append(f"removed {first}-{last}"))
    model.rowsInserted.connect(lambda _p, first, last: events.append(f"inserted {first}-{last}"))
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append(
            (top.row(), top.column(), bottom.row(), bottom.column())
        )
    )
    stalled = replace(SERVERS[0], replication_state="STALLED", lag_seconds=4000)
    added = server(6, "hr-app-01")
    newer = replace(INVENTORY, servers=(stalled, SERVERS[1], SERVERS[2], SERVERS[4], added))
    model.set_inventory(newer)
    assert "reset" not in events
    assert events == ["removed 3-3", "inserted 4-4"]
    assert changed == [(0, 0, 0, len(COLUMNS) - 1)]  # only the server whose values changed
    assert model.data(model.index(0, REPLICATION)) == "STALLED"
    assert [model.server_at(r).hostname for r in range(model.rowCount())] == [
        "shop-web-01", "shop-db-01", "legacy-fax", "retired-box", "hr-app-01",
    ]  # fmt: skip
    model.set_inventory(None)
    assert model.rowCount() == 0 and "reset" not in events


def test_usage_changes_only_the_used_by_column(model: ServerTableModel) -> None:
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append(
            (top.row(), top.column(), bottom.row(), bottom.column())
        )
    )
    model.set_usage({ID["legacy-fax"]: ServerUsage((), ("CRM",))})
    assert changed == [(0, USED_BY, 4, USED_BY)]
    assert model.data(model.index(model.row_of(ID["legacy-fax"]), USED_BY)) == "CRM"
    assert model.data(model.index(model.row_of(ID["shop-web-01"]), USED_BY)) == ""


def test_search_covers_every_column(proxy: ServerFilterModel) -> None:
    proxy.set_search("LEGACY")
    assert shown(proxy) == ["legacy-fax"]
    proxy.set_search(ID["new-build"][-6:])
    assert shown(proxy) == ["new-build"]
    proxy.set_search("tier=db")
    assert shown(proxy) == ["legacy-fax", "shop-db-01"]
    proxy.set_search("shop dr")  # the "Used by" column
    assert shown(proxy) == ["shop-web-01"]
    proxy.set_search("windows")
    assert shown(proxy) == ["legacy-fax", "shop-db-01"]
    proxy.set_search("")
    assert len(shown(proxy)) == 5


def test_state_os_and_tag_filters_combine(proxy: ServerFilterModel) -> None:
    proxy.set_state("STALLED")
    assert shown(proxy) == ["legacy-fax"]
    proxy.set_state("")
    proxy.set_os("Windows")
    assert shown(proxy) == ["legacy-fax", "shop-db-01"]
    proxy.set_os("Unknown")
    assert shown(proxy) == ["retired-box"]
    proxy.set_os("")
    proxy.set_tag_filter("application=SHOP, Tier=db")
    assert shown(proxy) == ["shop-db-01"]
    proxy.set_tag_filter("Application")  # a bare key: any value
    assert shown(proxy) == ["legacy-fax", "new-build", "shop-db-01", "shop-web-01"]
    proxy.set_os("Linux")
    assert shown(proxy) == ["new-build", "shop-web-01"]
    proxy.set_tag_filter("")
    proxy.set_os("")
    assert len(shown(proxy)) == 5


def test_sorting_uses_values_not_texts(proxy: ServerFilterModel) -> None:
    proxy.sort(LAG, Qt.SortOrder.AscendingOrder)
    order = [proxy.data(proxy.index(r, HOSTNAME)) for r in range(proxy.rowCount())]
    # "—" (no lag) first, then 3 s, 5 s, 12 s, 2 h: numeric, where text order would put "12 s" before "3 s".
    assert order == ["new-build", "shop-db-01", "retired-box", "shop-web-01", "legacy-fax"]
    assert proxy.rowCount(proxy.index(0, 0)) == 0 and not QModelIndex().isValid()
