"""The Device page: preparation and maintenance of a device, beside sampling it.

Three tools share one wiring (a config) and one device choice:
- I-V curves: every electrode swept in turn, curves drawn as they are measured;
- Consistency check: the stored charging and reference signals replayed, the
  RMSE of each repetition shown as it comes, and a verdict against the limits;
- Live panel: a DC level (or a small wave) per electrode, the current read back.

Only one thing may drive the device at a time: the tools are registered with
the session service (app/sessions.py), so a tool refuses to start while a
sampling session (Sampling page) or a resumed one (Recordings page) runs, or
while another tool of this page runs, and those refuse while a tool runs.
Leaving the page stops the live panel (outputs at 0 V); closing the window
cancels whatever runs, each job ending with the outputs at 0 V.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.devicechoices import device_choices
from app.pages import AppContext, Page, register_page
from app.pages.device.checktool import CheckTool
from app.pages.device.ivtool import IVTool
from app.pages.device.paneltool import PanelTool
from app.pages.device.setup import DeviceSetup
from app.settings import AppSettings
from app.theme import Theme
from widgets.runoptions import DeviceChoice

log = logging.getLogger(__name__)


@register_page
class DevicePage(Page):
    key = "device"
    title = "Device"
    order = 12

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setup = DeviceSetup(ctx.settings)
        self.iv = IVTool(ctx, self.setup, self.device_busy_reason)
        self.check = CheckTool(ctx, self.setup, self.device_busy_reason)
        self.live = PanelTool(ctx, self.setup, self.device_busy_reason)
        self.tools = QTabWidget()
        self.tools.setObjectName("device_tools")
        self.tools.addTab(self.iv, "I-V curves")
        self.tools.addTab(self.check, "Consistency check")
        self.tools.addTab(self.live, "Live panel")
        tips = (
            "Sweep each electrode over its range, the others at 0 V: to choose voltage ranges",
            "Replay a postprocessed folder's stored signals: does the device still answer "
            "as when it was sampled?",
            "Set a level per electrode and watch the current, without recording",
        )
        for i, tip in enumerate(tips):
            self.tools.setTabToolTip(i, tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.setup)
        layout.addWidget(self.tools, 1)
        for tool in (self.iv, self.check, self.live):
            tool.busy_changed.connect(self._on_busy)
        self.tools.currentChanged.connect(lambda *_: self.live.stop())
        names = {self.iv: "an I-V sweep", self.check: "a consistency check",
                 self.live: "the live panel"}  # fmt: skip
        for tool, name in names.items():
            ctx.sessions.add_user(tool, lambda tool=tool: tool.busy, f"{name} is running")
        ctx.sessions.inventory_changed.connect(lambda _inventory: self._refresh_devices())

    # --- one driver at a time -------------------------------------------------------------
    def tools_running(self) -> list[Any]:
        return [t for t in (self.iv, self.check, self.live) if t.busy]

    def device_busy_reason(self, asking: Any = None) -> str | None:
        """Why a tool may not drive the device now; None when it may (the service decides)."""
        return self.ctx.sessions.busy_reason(asking)

    def _on_busy(self, _busy: bool) -> None:
        self.setup.set_editable(not self.tools_running())

    # --- shown / hidden ------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._refresh_devices()
        if self.setup.setup is None and not self.setup.config_path.text().strip():
            config = self.ctx.sessions.next_config
            if config is not None:
                self.setup.use_config(config, "the Sampling page")

    def hideEvent(self, event: Any) -> None:
        """Leaving the page stops the live panel: outputs at 0 V."""
        self.live.stop()
        super().hideEvent(event)

    def _refresh_devices(self) -> None:
        """NI hardware as the session service's discovery found it."""
        inventory = self.ctx.sessions.inventory
        if inventory:
            choices, _ = device_choices(inventory)
        else:
            looking = inventory is None
            label = "NI-DAQmx (looking…)" if looking else "NI-DAQmx (not available)"
            choices = [DeviceChoice("simulated", "Simulated DNPU"),
                       DeviceChoice("nidaq", label, False, kind="nidaq")]  # fmt: skip
        self.setup.set_devices(choices)

    # --- window integration ----------------------------------------------------------------
    def busy_reason(self) -> str | None:
        running = self.tools_running()
        if not running:
            return None
        return self.device_busy_reason() or "the Device page is driving the device"

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Cancel whatever runs and wait: every job ends with the outputs at 0 V."""
        for tool in (self.iv, self.check, self.live):
            if tool.worker is not None and tool.busy:
                tool.worker.cancel()
        for tool in (self.iv, self.check, self.live):
            if not tool.wait(timeout_s):
                log.error("a Device page job did not stop within %.0f s", timeout_s)
        self.live.timer.stop()

    def save_state(self, settings: AppSettings) -> None:
        self.setup.save()

    def set_theme(self, theme: Theme) -> None:
        for tool in (self.iv, self.check, self.live):
            tool.set_theme(theme)
