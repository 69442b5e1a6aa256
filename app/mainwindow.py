"""The main window: registered pages as tabs, the menu bar, the log dock, the status bar.

It owns what pages share (settings, worker pool, theme) and the window's
lifecycle: layout and theme are restored on start and saved on close, and
closing while a page is busy asks first, then stops that work safely.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QMessageBox, QTabWidget, QWidget

from app import dialogs, helpmenu, widgetrules
from app.firstpaint import FirstPaint
from app.logdock import LogDock
from app.pages import AppContext, Page, page_classes
from app.settings import WINDOW_PAGE, AppSettings
from app.theme import app_icon, apply_theme
from app.workers import WorkerPool
from backend import __version__, userdirs

log = logging.getLogger(__name__)

MENUS = ("File", "Session", "View", "Help")
SHUTDOWN_TIMEOUT_S = 60.0


class MainWindow(QMainWindow):
    """samplelab's window; `pages` maps each page's key to the page."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        config_path: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        app = QApplication.instance()
        if app is not None:
            widgetrules.install(app)  # idempotent; covers windows made without run_gui (tests)
        self.setWindowIcon(app_icon())
        self.settings = settings or AppSettings()
        self.first_paint = FirstPaint(self)
        self.workers = WorkerPool(self)
        self.ctx = AppContext(self, self.settings, self.workers)
        self.ctx.initial_config = config_path
        self.log_dock = LogDock(self)
        self.log_dock.install()
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pages")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.statusBar().showMessage("Ready")
        self.pages: dict[str, Page] = {}
        self.help_window: helpmenu.HelpWindow | None = None
        for cls in page_classes():
            page = cls(self.ctx)
            self.pages[page.key] = page
            self.tabs.addTab(page, page.title)
            page.title_changed.connect(self._update_title)
        self.tabs.currentChanged.connect(self._update_title)
        self._build_menus()
        self.set_theme(self.settings.theme)
        self._restore_layout()
        self._update_title()
        self._closing = False

    # --- menus ----------------------------------------------------------------------
    def _build_menus(self) -> None:
        self.menus: dict[str, QMenu] = {}
        for title in MENUS:
            menu = self.menuBar().addMenu(f"&{title}")
            menu.setObjectName(f"menu_{title.lower()}")
            self.menus[title] = menu
        for page in self.pages.values():
            for title, actions in page.menu_actions().items():
                menu = self.menus.get(title) or self._add_menu(title)
                for action in actions:
                    if action is None:
                        menu.addSeparator()
                    else:
                        menu.addAction(action)
        file_menu = self.menus["File"]
        file_menu.addSeparator()
        # Ctrl+Q everywhere: QKeySequence.Quit has no binding on Windows.
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        file_menu.addAction(self.quit_action)
        view = self.menus["View"]
        self.dark_action = self._action("&Dark theme", None, QKeySequence("Ctrl+Shift+D"))
        self.dark_action.setCheckable(True)
        self.dark_action.toggled.connect(lambda on: self.set_theme("dark" if on else "light"))
        view.addAction(self.dark_action)
        log_action = self.log_dock.toggleViewAction()
        log_action.setText("&Log console")
        log_action.setShortcut(QKeySequence("Ctrl+L"))
        view.addAction(log_action)
        help_menu = self.menus["Help"]
        self.docs_action = self._action("&Documentation", self.show_docs, "F1")
        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts)
        self.log_folder_action = self._action("Open &log folder", self.open_log_folder)
        self.about_action = self._action("&About samplelab", self.show_about)
        for action in (self.docs_action, self.shortcuts_action, self.log_folder_action):
            help_menu.addAction(action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def _add_menu(self, title: str) -> QMenu:
        menu = QMenu(f"&{title}", self)
        self.menuBar().insertMenu(self.menus["Help"].menuAction(), menu)
        self.menus[title] = menu
        return menu

    def _action(self, text: str, slot=None, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if slot is not None:
            action.triggered.connect(slot)
        return action

    # --- help ---------------------------------------------------------------------
    def show_docs(self, page: str = "") -> helpmenu.HelpWindow:
        """The documentation window (one per main window), on `page` (docs/<page>.md)."""
        if self.help_window is None:
            self.help_window = helpmenu.HelpWindow(self)
        if page:
            self.help_window.show_page(page)
        self.help_window.show()
        self.help_window.raise_()
        self.help_window.activateWindow()
        return self.help_window

    def show_shortcuts(self) -> helpmenu.ShortcutsDialog:
        dialog = helpmenu.ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_log_folder(self) -> None:
        folder = userdirs.log_dir()
        if not helpmenu.open_folder(folder):
            self.statusBar().showMessage(f"The log folder is {folder}", 15000)

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowTitle("About samplelab")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(
            f"<b>samplelab {__version__}</b><br>Sample DNPU devices through NI-DAQ or a "
            "simulated device, watch them live, and build datasets for surrogate models."
        )
        box.setInformativeText(f"Settings: {self.settings.path}<br>Log files: {userdirs.log_dir()}")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    # --- theme and title ------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        theme = apply_theme(app, name) if app is not None else self.ctx.theme
        self.ctx.theme = theme
        self.settings.theme = theme.name
        self.log_dock.set_theme(theme)
        for page in self.pages.values():
            page.set_theme(theme)
        if self.dark_action.isChecked() != theme.dark:
            self.dark_action.setChecked(theme.dark)

    def _update_title(self, *_args: object) -> None:
        page = self.tabs.currentWidget()
        suffix = page.title_suffix() if isinstance(page, Page) else ""
        self.setWindowTitle(f"{suffix} - samplelab" if suffix else "samplelab")

    # --- layout ---------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry, state = self.settings.geometry, self.settings.window_state
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        if state is None or not self.restoreState(state):
            self.resizeDocks([self.log_dock], [140], Qt.Orientation.Vertical)
        current = WINDOW_PAGE.read(self.settings)
        if current in self.pages:
            self.tabs.setCurrentWidget(self.pages[current])

    def _save_layout(self) -> None:
        self.settings.geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        current = self.tabs.currentWidget()
        if isinstance(current, Page):
            WINDOW_PAGE.write(self.settings, current.key)
        for page in self.pages.values():
            page.save_state(self.settings)
        self.settings.sync()

    # --- closing --------------------------------------------------------------------
    def busy_reasons(self) -> list[str]:
        reasons = [r for page in self.pages.values() if (r := page.busy_reason())]
        if self.workers.running() and not reasons:
            reasons.append("background jobs are running")
        return reasons

    def close_without_asking(self, reason: str) -> None:
        """Close with no question, for when nobody can answer (the console is closing).

        Running work stops as on any close (a session at 0 V, its recording
        closed); unsaved edits are not kept.
        """
        log.warning("closing without asking: %s", reason)
        self._closing = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing and not all(page.confirm_close() for page in self.pages.values()):
            event.ignore()  # the user chose Cancel (or a save was not made)
            return
        reasons = self.busy_reasons()
        if reasons and not self._closing:
            text = (
                f"Closing now stops what is running: {'; '.join(reasons)}.\n\n"
                "A session stops after the batch in flight, sets the outputs to 0 V and "
                "keeps every completed batch in its recording.\n\nStop and close?"
            )
            if not dialogs.confirm(self, "Stop and close?", text):
                event.ignore()
                return
        self._closing = True
        self.statusBar().showMessage("Stopping…")
        for page in self.pages.values():
            page.shutdown(SHUTDOWN_TIMEOUT_S)
        self.workers.cancel_all()
        self.workers.wait_all(SHUTDOWN_TIMEOUT_S)
        self._save_layout()
        self.log_dock.uninstall()
        event.accept()
