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
        self.help_window: helpmenu.HelpWindow | None = None
        # The page shown first is built now, the others right after the first paint
        # (before any other deferred work): a fast first window. `pages` builds them
        # at once for whoever asks earlier.
        self._classes = {cls.key: cls for cls in page_classes()}
        self._built: dict[str, Page] = {}
        self._themed = False
        self.first_paint.call_after(self._build_all)
        for cls in self._classes.values():
            self.tabs.addTab(QWidget(), cls.title)  # a placeholder until the page is built
        self._build_page(self._first_key())
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._build_menus()
        self.set_theme(self.settings.theme)
        self._themed = True
        self._restore_layout()
        self._update_title()
        self._closing = False

    # --- pages ------------------------------------------------------------------------
    @property
    def pages(self) -> dict[str, Page]:
        """Every page by key, in tab order (those not built yet are built now)."""
        self._build_all()
        return self._pages_built()

    def _pages_built(self) -> dict[str, Page]:
        return {key: self._built[key] for key in self._classes if key in self._built}

    def _first_key(self) -> str:
        remembered = WINDOW_PAGE.read(self.settings)
        return remembered if remembered in self._classes else next(iter(self._classes))

    def _build_all(self) -> None:
        if len(self._built) < len(self._classes):
            for key in self._classes:
                self._build_page(key)
            self._fill_menus()

    def _build_page(self, key: str) -> Page:
        """The page `key`, built now in place of its placeholder tab if it was not yet."""
        if key in self._built:
            return self._built[key]
        cls = self._classes[key]
        page = cls(self.ctx)
        self._built[key] = page
        index = list(self._classes).index(key)
        placeholder = self.tabs.widget(index)
        current = self.tabs.currentIndex()
        blocked = self.tabs.blockSignals(True)  # the same tab stays current throughout
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, page, cls.title)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(blocked)
        placeholder.deleteLater()
        page.title_changed.connect(self._update_title)
        if self._themed:  # built after the window: it follows the window's theme
            page.set_theme(self.ctx.theme)
        return page

    def _on_tab_changed(self, index: int) -> None:
        if index >= 0 and not isinstance(self.tabs.widget(index), Page):  # shown before built
            self._build_page(list(self._classes)[index])
            self._fill_menus()
        self._update_title()

    # --- menus ----------------------------------------------------------------------
    def _build_menus(self) -> None:
        self.menus: dict[str, QMenu] = {}
        for title in MENUS:
            menu = self.menuBar().addMenu(f"&{title}")
            menu.setObjectName(f"menu_{title.lower()}")
            self.menus[title] = menu
        # Ctrl+Q everywhere: QKeySequence.Quit has no binding on Windows.
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        self.dark_action = self._action("&Dark theme", None, QKeySequence("Ctrl+Shift+D"))
        self.dark_action.setCheckable(True)
        self.dark_action.toggled.connect(lambda on: self.set_theme("dark" if on else "light"))
        self.log_action = self.log_dock.toggleViewAction()
        self.log_action.setText("&Log console")
        self.log_action.setShortcut(QKeySequence("Ctrl+L"))
        self.docs_action = self._action("&Documentation", self.show_docs, "F1")
        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts)
        self.log_folder_action = self._action("Open &log folder", self.open_log_folder)
        self.about_action = self._action("&About samplelab", self.show_about)
        self._fill_menus()

    def _fill_menus(self) -> None:
        """(Re)fill the menus: the built pages' actions in tab order, then the window's own."""
        for menu in self.menus.values():
            menu.clear()
        for page in self._pages_built().values():
            for title, actions in page.menu_actions().items():
                menu = self.menus.get(title) or self._add_menu(title)
                for action in actions:
                    if action is None:
                        menu.addSeparator()
                    else:
                        menu.addAction(action)
        file_menu = self.menus["File"]
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.menus["View"].addActions([self.dark_action, self.log_action])
        help_menu = self.menus["Help"]
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
        for page in self._pages_built().values():
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
            room = self.screen().availableGeometry()  # a laptop's 1366x768 holds it whole
            self.resize(min(1400, room.width()), min(900, room.height()))
        if state is None or not self.restoreState(state):
            self.resizeDocks([self.log_dock], [140], Qt.Orientation.Vertical)
        self.tabs.setCurrentWidget(self._built[self._first_key()])

    def _save_layout(self) -> None:
        self.settings.geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        current = self.tabs.currentWidget()
        if isinstance(current, Page):
            WINDOW_PAGE.write(self.settings, current.key)
        for page in self._pages_built().values():
            page.save_state(self.settings)
        self.settings.sync()

    # --- closing --------------------------------------------------------------------
    def busy_reasons(self) -> list[str]:
        reasons = [r for page in self._pages_built().values() if (r := page.busy_reason())]
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
        pages = self._pages_built().values()
        if not self._closing and not all(page.confirm_close() for page in pages):
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
        for page in pages:
            page.shutdown(SHUTDOWN_TIMEOUT_S)
        self.workers.cancel_all()
        self.workers.wait_all(SHUTDOWN_TIMEOUT_S)
        self._save_layout()
        self.log_dock.uninstall()
        event.accept()
